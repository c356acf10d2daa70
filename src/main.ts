// Composition root: config -> logger -> database -> services -> roles (api, worker, or both).
import type { Runner } from 'graphile-worker';
import type pg from 'pg';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { openDatabase, type DatabaseHandle, type DatabaseRole } from './db/embedded.ts';
import { migrate } from './db/migrate.ts';
import { createDb, createPool, type Db } from './db/pool.ts';
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

const WORKER_SCHEMA_LOCK = 7_301_402_612;

/**
 * graphile-worker's installer races with itself on a fresh database (two processes' CREATE SCHEMA
 * collide: `tandem api` beside `tandem worker`), so installs take turns under an advisory lock.
 */
async function serialised<T>(pool: pg.Pool, fn: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [WORKER_SCHEMA_LOCK]);
    return await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [WORKER_SCHEMA_LOCK]).catch(() => undefined);
    client.release();
  }
}

/**
 * pool.end() resolves once no client is listed, before their sockets have closed; stopping the
 * embedded postmaster then would kill those sessions and log errors. Wait for each 'remove'.
 */
async function closePool(db: Db, pool: pg.Pool): Promise<void> {
  let open = pool.totalCount;
  const closed = new Promise<void>((resolve) => {
    if (open === 0) resolve();
    pool.on('remove', () => {
      if (--open <= 0) resolve();
    });
  });
  await db.destroy();
  // Kysely ends the pool only if it ran a query; `tandem migrate` uses the pool alone.
  if (!pool.ending) await pool.end();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, 5_000)))]);
  clearTimeout(timer);
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
      await serialised(pool, () => installWorkerSchema(services));
    }
  } catch (err) {
    await services.renderer.close();
    await closePool(db, pool);
    await database.stop();
    throw err;
  }
  return {
    services,
    database,
    async close() {
      // The render threads first: nothing renders once the API and the worker have stopped.
      await services.renderer.close();
      await closePool(db, pool);
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
      await base.services.delivery.close();
      await base.close();
    })();
    return closing;
  };
  return t;
}
