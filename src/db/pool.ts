import pg from 'pg';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** A query runner: the database or a transaction. Repos accept either. */
export type Queryable = Kysely<Database>;

// bigint (int8) ids come back as strings; keep them strings (ids are opaque), but
// parse int8 counts where repos ask for them with ::int.
export function createPool(url: string, max: number): pg.Pool {
  return new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000 });
}

export function createDb(pool: pg.Pool): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
