import type { Config } from '../config.ts';
import type { Services } from '../services.ts';

/** The configuration, read when a command runs: `tandem --help` loads neither zod nor the server. */
export async function loadCliConfig(): Promise<Config> {
  return (await import('../config.ts')).loadConfig();
}

/** Run a CLI command against the database (shared with a running server, or started for the command). */
export async function withServices<T>(config: Promise<Config>, fn: (services: Services) => Promise<T>): Promise<T> {
  const cfg = await config;
  const [{ createLogger }, { openTandem }] = await Promise.all([import('../logger.ts'), import('../main.ts')]);
  const log = createLogger({ logLevel: cfg.logLevel === 'info' ? 'warn' : cfg.logLevel }, 'stderr');
  const t = await openTandem(cfg, log, { dbRole: 'cli' });
  try {
    return await fn(t.services);
  } finally {
    await t.close();
  }
}

export function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human()}\n`);
}
