import type { Command } from 'commander';
import type { Config } from '../config.ts';
import type { KeyKind, KeyRow } from '../modules/workspaces/index.ts';
import { print, withServices } from './context.ts';

function keyLine(k: KeyRow): string {
  return `${k.id}  ${k.kind.padEnd(5)}  ${k.prefix}  ${k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active'}`;
}

/**
 * `eval "$(tandem workspace create Acme --env)"` sets the tour's variables. Keys are base64url and ids
 * hex, yet each value is single-quoted so that nothing in one could ever be read by the shell as code.
 */
export function envLines(created: { workspaceId: string; siteId: string; writeKey: string; trackApiKey: string; appApiKey: string }): string {
  const q = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;
  return [
    `export WK=${q(created.writeKey)} SITE=${q(created.siteId)} TK=${q(created.trackApiKey)} APP=${q(created.appApiKey)}`,
    `export WORKSPACE=${q(created.workspaceId)} TANDEM_APP_KEY=${q(created.appApiKey)}`,
    '',
  ].join('\n');
}

export function registerWorkspaceCommands(program: Command, config: () => Promise<Config>): void {
  const ws = program.command('workspace').description('Create and list workspaces');

  ws.command('create <name>').description('Create a workspace and print its keys (shown once)')
    .option('--json', 'print one JSON object')
    .option('--env', 'print shell lines for eval: export WK=… SITE=… TK=… APP=… WORKSPACE=…')
    .action((name: string, opts: { json?: boolean; env?: boolean }) => withServices(config(), async (s) => {
      const created = await s.workspaces.create(name);
      if (opts.env) {
        process.stdout.write(envLines(created));
        return;
      }
      print(!!opts.json, created, () => [
        `workspace ${created.workspaceId} (${created.name})`,
        `  writeKey     ${created.writeKey}    (Segment: Basic auth user name)`,
        `  siteId       ${created.siteId}`,
        `  trackApiKey  ${created.trackApiKey}    (Customer.io Track API: Basic siteId:trackApiKey)`,
        `  appApiKey    ${created.appApiKey}    (App API and /api: Bearer)`,
        'Keys are stored hashed and shown only now.',
      ].join('\n'));
    }));

  ws.command('list').description('List workspaces').option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => withServices(config(), async (s) => {
      const list = await s.workspaces.list();
      print(!!opts.json, list, () => list.map((w) => `${w.id}  ${w.siteId}  ${w.name}`).join('\n') || 'no workspaces');
    }));

  const keys = program.command('keys').description('List, create, rotate and revoke API keys');
  keys.command('list').requiredOption('--workspace <id>').option('--json', 'print JSON')
    .action((opts: { workspace: string; json?: boolean }) => withServices(config(), async (s) => {
      const list = await s.workspaces.listKeys(opts.workspace);
      print(!!opts.json, list, () => list.map(keyLine).join('\n'));
    }));
  keys.command('create').requiredOption('--workspace <id>').requiredOption('--kind <kind>', 'write | track | app')
    .option('--name <name>').option('--json', 'print JSON')
    .action((opts: { workspace: string; kind: string; name?: string; json?: boolean }) => {
      // Checked before the database is opened: bad input should not start a postmaster.
      if (!['write', 'track', 'app'].includes(opts.kind)) throw new Error(`--kind must be write, track or app (got "${opts.kind}")`);
      return withServices(config(), async (s) => {
        const created = await s.workspaces.createKey(opts.workspace, opts.kind as KeyKind, opts.name);
        print(!!opts.json, { key: created.key, secret: created.secret }, () => `${keyLine(created.key)}\nsecret: ${created.secret}`);
      });
    });
  keys.command('rotate <keyId>').requiredOption('--workspace <id>').option('--json', 'print JSON')
    .action((keyId: string, opts: { workspace: string; json?: boolean }) => withServices(config(), async (s) => {
      const created = await s.workspaces.rotateKey(opts.workspace, keyId);
      print(!!opts.json, { key: created.key, secret: created.secret }, () => `${keyLine(created.key)}\nsecret: ${created.secret}`);
    }));
  keys.command('revoke <keyId>').requiredOption('--workspace <id>')
    .action((keyId: string, opts: { workspace: string }) => withServices(config(), async (s) => {
      await s.workspaces.revokeKey(opts.workspace, keyId);
      process.stdout.write(`revoked ${keyId}\n`);
    }));
}
