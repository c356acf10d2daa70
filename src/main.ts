// Composition root: config -> logger -> database -> services -> roles (api, worker, or both).
import type { Runner } from 'graphile-worker';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { openDatabase, type DatabaseHandle, type DatabaseRole } from './db/embedded.ts';
import { migrate } from './db/migrate.ts';
import { createDb, createPool } from './db/pool.ts';
import { buildApp } from './http/app.ts';
import type { TandemApp } from './http/types.ts';
import type { Logger } from './logger.ts';
import { createServices, type Services } from './services.ts';
import { installWorkerSchema, startWorker } from './worker/runner.ts';

export type Role = 'api' | 'worker';

export interface Tandem {
  services: Services;
  database: DatabaseHandle;
  app?: TandemApp;
  worker?: Runner;
  /** The address the API listens on, when it listens. */
  address?: string;
  close(): Promise<void>;
}

/** Open the database (embedded or DATABASE_URL), run migrations, and build the services. */
export async function openTandem(config: Config, log: Logger, opts: { dbRole: DatabaseRole; clock?: Clock; migrate?: boolean }): Promise<Omit<Tandem, 'app' | 'worker'>> {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, role: opts.dbRole }, log);
  const pool = createPool(database.url, config.dbPoolSize);
  pool.on('error', (err) => log.warn({ err }, 'idle database connection failed'));
  const db = createDb(pool);
  const services = createServices({ config, db, pool, clock: opts.clock ?? systemClock, log });
  try {
    if (opts.migrate !== false) {
      await migrate(pool, log);
      await installWorkerSchema(services);
    }
  } catch (err) {
    await db.destroy();
    await database.stop();
    throw err;
  }
  return {
    services,
    database,
    async close() {
      await db.destroy();
      await database.stop();
    },
  };
}

/** Run the given roles until close(): `tandem start` runs both, `tandem api` / `tandem worker` one. */
export async function runTandem(config: Config, log: Logger, roles: Role[], opts: { listen?: boolean; clock?: Clock } = {}): Promise<Tandem> {
  const base = await openTandem(config, log, { dbRole: 'server', ...(opts.clock ? { clock: opts.clock } : {}) });
  const t: Tandem = { ...base };
  try {
    if (roles.includes('worker')) t.worker = await startWorker(base.services);
    if (roles.includes('api')) {
      t.app = await buildApp({ log, services: base.services });
      if (opts.listen !== false) {
        t.address = await t.app.listen({ port: config.port, host: config.host });
        log.info({ address: t.address }, 'Tandem API listening');
      }
    }
  } catch (err) {
    await t.worker?.stop().catch(() => undefined);
    await t.app?.close().catch(() => undefined);
    await base.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  t.close = () => {
    closing ??= (async () => {
      await t.app?.close();
      await t.worker?.stop();
      await base.close();
    })();
    return closing;
  };
  return t;
}
