// Per-file test harness: a fresh database cloned from the migrated template, real services,
// the Fastify app (in-process via inject, or on a real port), and factories.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { inject } from 'vitest';
import { FakeClock, systemClock, type Clock } from '../src/clock.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { createDb, createPool } from '../src/db/pool.ts';
import { buildApp } from '../src/http/app.ts';
import type { TandemApp } from '../src/http/types.ts';
import { createServices, type Services } from '../src/services.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';
import type { ProviderDeps } from '../src/modules/delivery/index.ts';
import { startWorker } from '../src/worker/runner.ts';
import type { Runner } from 'graphile-worker';
import { withDatabase } from './global-setup.ts';

export { FakeClock };

export interface TestTandem {
  services: Services;
  app: TandemApp;
  clock: Clock;
  databaseUrl: string;
  /** Base URL when started with listen: true. */
  baseUrl: string;
  worker?: Runner;
  workspace(name?: string): Promise<CreatedWorkspace>;
  close(): Promise<void>;
}

/** A new database cloned from the migrated template. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = inject('adminUrl');
  const name = `tandem_t_${process.ppid}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  // CREATE DATABASE ... TEMPLATE fails if another session is connected to the template; retry.
  for (let i = 0; ; i++) {
    try {
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDb')}`);
      break;
    } catch (err) {
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await admin.end();
  return {
    url: withDatabase(adminUrl, name),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function createTestTandem(opts: {
  clock?: Clock; listen?: boolean; worker?: boolean; config?: Partial<Config>;
  /** Provider senders' HTTP endpoint (a local server playing the provider). */
  providerDeps?: ProviderDeps;
  /** A logger of the test's own (to read what was logged); silent by default. */
  log?: Logger;
} = {}): Promise<TestTandem> {
  const database = await createTestDatabase();
  const config = loadConfig({ LOG_LEVEL: 'silent' }, { databaseUrl: database.url, dbPoolSize: 10, ...opts.config });
  const log = opts.log ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const pool = createPool(database.url, config.dbPoolSize);
  // The DROP ... WITH (FORCE) in close() ends any connection still open; that is expected, not a failure.
  pool.on('error', () => undefined);
  const db = createDb(pool);
  const clock = opts.clock ?? systemClock;
  const services = createServices({ config, db, pool, clock, log, providerDeps: opts.providerDeps });
  const app = await buildApp({ log, services });
  let baseUrl = '';
  if (opts.listen) baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  else await app.ready();
  const worker = opts.worker ? await startWorker(services) : undefined;
  return {
    services, app, clock, databaseUrl: database.url, baseUrl, ...(worker ? { worker } : {}),
    workspace: (name = 'Test workspace') => services.workspaces.create(name),
    async close() {
      await worker?.stop();
      await app.close();
      await services.delivery.close();
      await services.renderer.close();
      await db.destroy();
      // Kysely ends the pool only if a query went through it; some tests use the pool directly.
      if (!pool.ending && !pool.ended) await pool.end();
      await database.drop();
    },
  };
}

export function basic(user: string, pass = ''): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

export function bearer(token: string): string {
  return `Bearer ${token}`;
}
