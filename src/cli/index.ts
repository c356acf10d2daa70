// The `tandem` command. Every command works whether or not `tandem start` runs on the same data dir.
// Commands load what they need when they run (dynamic imports): `tandem --help` loads commander and
// these few files, not the server (test/cli-startup.test.ts).
import { Command } from 'commander';
import { isAppError } from '../errors.ts';
import type { Role } from '../main.ts';
import { registerAsCodeCommands } from './ascode.ts';
import { loadCliConfig } from './context.ts';
import { registerWorkspaceCommands } from './workspace.ts';
import { registerDomainCommands } from './domain.ts';
import { registerImportCommands } from './import.ts';

const program = new Command()
  .name('tandem')
  .description('Tandem: self-hosted customer messaging')
  .showHelpAfterError();

const config = loadCliConfig;

async function serve(roles: Role[]): Promise<void> {
  const cfg = await config();
  const [{ createLogger }, { runTandem }] = await Promise.all([import('../logger.ts'), import('../main.ts')]);
  const log = createLogger(cfg);
  const t = await runTandem(cfg, log, roles);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    t.close().then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

program.command('start').description('Run the API, the web app and the workers in one process')
  .action(() => serve(['api', 'worker']));
program.command('api').description('Run the HTTP API only').action(() => serve(['api']));
program.command('worker').description('Run the job workers only').action(() => serve(['worker']));

program.command('migrate').description('Apply database migrations and exit')
  .action(async () => {
    const cfg = await config();
    const [{ createLogger }, { openTandem }] = await Promise.all([import('../logger.ts'), import('../main.ts')]);
    const log = createLogger({ logLevel: cfg.logLevel === 'info' ? 'warn' : cfg.logLevel }, 'stderr');
    const t = await openTandem(cfg, log, { dbRole: 'cli' });
    await t.close();
    process.stdout.write('migrations applied\n');
  });

registerWorkspaceCommands(program, config);
registerDomainCommands(program, config);
registerAsCodeCommands(program);
registerImportCommands(program);

// One line, no stack trace: the message, and for catalogued errors the stable code (docs/errors.md).
program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`tandem: ${message}${isAppError(err) ? ` [${err.code}]` : ''}\n`);
  process.exit(1);
});
