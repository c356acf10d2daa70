import type { Command } from 'commander';
import type { Config } from '../config.ts';
import type { DomainRecords } from '../modules/delivery/index.ts';
import { print, withServices } from './context.ts';

function human(r: DomainRecords): string {
  return [
    `sending domain ${r.domain}: publish these DNS records`,
    `  DKIM   ${r.dkim.name}  TXT  "${r.dkim.value}"`,
    `  SPF    ${r.spf.name}  TXT  "${r.spf.value}"   (${r.spf.note})`,
    `  DMARC  ${r.dmarc.name}  TXT  "${r.dmarc.value}"   (${r.dmarc.note})`,
  ].join('\n');
}

export function registerDomainCommands(program: Command, config: () => Promise<Config>): void {
  const domain = program.command('domain').description('Sending domains: DKIM keys and the DNS records to publish');

  domain.command('add <domain>').description('Create a DKIM key pair for the domain and print the DNS records (adding it again prints the same)')
    .requiredOption('--workspace <id>').option('--json', 'print one JSON object: {domain, dkim: {selector, name, type, value}, spf, dmarc}')
    .action((name: string, opts: { workspace: string; json?: boolean }) => withServices(config(), async (s) => {
      await s.workspaces.get(opts.workspace);
      const records = await s.domains.add(opts.workspace, name);
      print(!!opts.json, records, () => human(records));
    }));

  domain.command('list').requiredOption('--workspace <id>').option('--json', 'print JSON')
    .action((opts: { workspace: string; json?: boolean }) => withServices(config(), async (s) => {
      const list = await s.domains.list(opts.workspace);
      print(!!opts.json, list, () => list.map(human).join('\n\n') || 'no sending domains');
    }));
}
