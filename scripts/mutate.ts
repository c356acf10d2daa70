// npm run mutate -- <module> [...more]: StrykerJS (stryker.config.json) on the files of one module
// where a bug loses or leaks data, with only the tests that are meant to kill those mutants. One module
// at a time: a run over everything takes hours on two cores. `npm run mutate -- --list` shows the map.
// The score and the survivors land in reports/mutation/<module>.json; docs/testing.md keeps the last
// scores and explains every survivor left.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Per module: what is mutated, and the test files that must notice. `file#a,b` mutates only the
 * functions (or methods) named a and b in that file: the code where a bug loses or leaks data, so that
 * a run takes minutes rather than hours (each mutant re-runs its tests' setup: a cloned database).
 */
export const MODULES: Record<string, { mutate: string[]; tests: string[] }> = {
  consent: {
    mutate: ['src/modules/consent/service.ts#check', 'src/modules/consent/address.ts'],
    tests: ['src/modules/consent/consent.test.ts', 'src/modules/consent/address.test.ts', 'src/modules/delivery/consent-gate.test.ts'],
  },
  delivery: {
    mutate: ['src/modules/delivery/send-batch.ts#backoffMs,retryLater,sendSms,attempt', 'src/modules/delivery/transactional.ts#send',
      'src/modules/delivery/providers/http.ts#parseRetryAfter,kindForStatus'],
    tests: ['src/modules/delivery/send-batch.test.ts', 'src/modules/delivery/retry-policy.test.ts', 'src/modules/delivery/consent-gate.test.ts'],
  },
  ingest: {
    mutate: ['src/modules/ingest/service.ts#ingest', 'src/modules/ingest/clean.ts'],
    tests: ['src/modules/ingest/ingest.test.ts', 'src/modules/ingest/clean.test.ts'],
  },
  identity: {
    mutate: ['src/modules/people/identity.ts'],
    tests: ['src/modules/ingest/ingest.test.ts', 'src/modules/segment/profiles.test.ts'],
  },
  segments: {
    mutate: ['src/modules/segments/membership.ts'],
    tests: ['src/modules/segments/segments.test.ts', 'src/modules/segments/wakeup.test.ts'],
  },
  // The isolation walker takes minutes per run, and every mutant of a repo re-runs it: hours.
  isolation: {
    mutate: ['src/modules/people/repo.ts#deleteObject,deleteDevice,upsertObject,relate,unrelate'],
    tests: ['test/isolation.test.ts'],
  },
};

/** `file#a,b` -> Stryker's `file:startLine-endLine` for each function; a plain file stays as it is. */
export function mutateSpecs(entry: string): string[] {
  const [file, names] = entry.split('#') as [string, string | undefined];
  if (!names) return [file];
  const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
  return names.split(',').map((name) => {
    const head = new RegExp(`^\\s*(export\\s+)?(async\\s+)?(function\\s+)?${name}\\s*[(<]`);
    const start = lines.findIndex((l) => head.test(l));
    if (start < 0) throw new Error(`${file}: no function "${name}" (update MODULES in scripts/mutate.ts)`);
    // The function ends where its braces balance again (strings and comments with braces are rare here).
    let depth = 0;
    let opened = false;
    for (let i = start; i < lines.length; i++) {
      for (const ch of lines[i]!.replace(/\/\/.*$/, '')) {
        if (ch === '{') { depth++; opened = true; } else if (ch === '}') depth--;
      }
      if (opened && depth <= 0) return `${file}:${start + 1}-${i + 1}`;
    }
    throw new Error(`${file}: the end of "${name}" was not found`);
  });
}

const args = process.argv.slice(2);
if (args.length === 0 || args.includes('--list')) {
  for (const [name, m] of Object.entries(MODULES)) process.stdout.write(`${name}\n  mutate: ${m.mutate.flatMap(mutateSpecs).join(', ')}\n  tests:  ${m.tests.join(', ')}\n`);
  process.exit(args.length === 0 ? 1 : 0);
}
for (const name of args) {
  const m = MODULES[name];
  if (!m) {
    process.stderr.write(`unknown module "${name}"; one of: ${Object.keys(MODULES).join(', ')}\n`);
    process.exit(2);
  }
  const tests = m.tests.filter((t) => existsSync(path.join(root, t)));
  const run = spawnSync(path.join(root, 'node_modules', '.bin', 'stryker'), [
    'run', 'stryker.config.json', '--mutate', m.mutate.flatMap(mutateSpecs).join(','), '--testFiles', tests.join(','),
  ], { cwd: root, stdio: 'inherit' });
  if (run.error) throw run.error;
  const out = path.join(root, 'reports', 'mutation');
  mkdirSync(out, { recursive: true });
  if (existsSync(path.join(out, 'mutation.json'))) renameSync(path.join(out, 'mutation.json'), path.join(out, `${name}.json`));
  if (run.status !== 0) process.exit(run.status ?? 1);
}
