// Starts the database for the whole run: the machine's server when DATABASE_URL is set, otherwise a
// real embedded PostgreSQL in a temporary data dir. Builds one migrated template database; each
// test file clones it (test/harness.ts), so files never share rows.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { runMigrations } from 'graphile-worker';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDb: string;
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export default async function setup(project: TestProject) {
  const log = pino({ level: 'warn' });
  let dataDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  let stop = async () => {};
  if (!adminUrl) {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tandem-test-'));
    const handle = await openDatabase({ databaseUrl: undefined, dataDir, role: 'server' }, log);
    adminUrl = handle.url;
    stop = () => handle.stop();
  }
  const templateDb = `tandem_tpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${templateDb}`);
  const pool = new pg.Pool({ connectionString: withDatabase(adminUrl, templateDb), max: 2 });
  await migrate(pool);
  await runMigrations({ pgPool: pool });
  await pool.end();
  project.provide('adminUrl', adminUrl);
  project.provide('templateDb', templateDb);

  return async () => {
    // Drop every database this run made (files drop their own; this catches crashed files).
    const left = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2`, [`tandem_t_${process.pid}_%`, templateDb]);
    for (const { datname } of left.rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    await admin.end();
    await stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}
