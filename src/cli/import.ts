// `tandem import people FILE.csv` (docs/imports.md); the command itself is in import-people.ts, loaded when
// it runs.
import type { Command } from 'commander';
import type { ImportOpts } from './import-people.ts';

export function registerImportCommands(program: Command): void {
  const cmd = program.command('import').description('Import data into a running Tandem over its API');
  cmd.command('people <file>')
    .description('Create or update people from a CSV file (header row: id, email, phone, attributes, topic:<key>; see docs/imports.md)')
    .option('--workspace <id>', 'check that the key belongs to this workspace')
    .option('--list <list>', 'add every imported person to this manual list (id or key)')
    .option('--update-only', 'never create people: rows naming nobody are skipped')
    .option('--dry-run', 'check and count every row, write nothing')
    .option('--url <url>', 'Tandem base URL (default: TANDEM_URL, else http://127.0.0.1:3000)')
    .option('--key <key>', 'the workspace\'s App API key (default: TANDEM_APP_KEY)')
    .option('--json', 'print the final import as one JSON object')
    .action(async (file: string, opts: ImportOpts) => (await import('./import-people.ts')).importPeople(file, opts));
}
