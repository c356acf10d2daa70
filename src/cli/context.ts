import type { Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { openTandem } from '../main.ts';
import type { Services } from '../services.ts';

/** Run a CLI command against the database (shared with a running server, or started for the command). */
export async function withServices<T>(cfg: Config, fn: (services: Services) => Promise<T>): Promise<T> {
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
