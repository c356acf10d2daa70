// Keyset pagination shared by the list endpoints: newest first on (timestamp, id), with an opaque
// cursor that carries the exact microsecond timestamp as text (a JS Date keeps only milliseconds, so a
// Date cursor could skip rows created in the same millisecond or repeat them).
import { sql, type RawBuilder } from 'kysely';
import { AppError } from '../errors.ts';

/** A keyset position: the exact timestamp text and the row id. */
export interface Keyset {
  ts: string;
  id: string;
}

/** A timestamptz column as exact UTC text with microseconds, for the next cursor. */
export const micros = (col: string): RawBuilder<string> =>
  sql<string>`to_char(${sql.ref(col)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** An opaque cursor: a tuple of strings as base64url JSON (the keyset below, the catalog's (type, name)). */
export function encodeTuple(values: readonly string[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

/**
 * The tuple back; anything malformed (not base64url, not JSON, another length, a non-string, a NUL, an item
 * over 500 characters) is the caller's 400 naming `field`, never a 500.
 */
export function decodeTuple(cursor: string, opts: { length: number; field: string; maxChars: number }): string[] {
  const bad = () => new AppError('request.invalid', 'The cursor is not valid; use nextCursor from a previous page.', { field: opts.field });
  if (cursor.length > opts.maxChars || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== opts.length
    || !parsed.every((x) => typeof x === 'string' && x.length <= 500 && !x.includes('\u0000'))) throw bad();
  return parsed as string[];
}

export function encodeCursor(k: Keyset): string {
  return encodeTuple([k.ts, k.id]);
}

/** An opaque cursor back to a keyset; anything malformed is the caller's 400, never a 500. */
export function decodeCursor(cursor: string, validId: (id: string) => boolean): Keyset {
  const bad = () => new AppError('request.invalid', 'The cursor is not valid; use nextCursor from a previous page.', { field: 'cursor' });
  const [ts = '', id = ''] = decodeTuple(cursor, { length: 2, field: 'cursor', maxChars: 1000 });
  if (!TS.test(ts)) throw bad();
  // Round-trip through Date to reject impossible dates (month 13, Feb 30) before PostgreSQL sees them.
  const date = new Date(ts);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 19) !== ts.slice(0, 19)) throw bad();
  if (!validId(id)) throw bad();
  return { ts, id };
}

/**
 * One page from rows fetched with limit + 1: the extra row only says that another page exists, and the
 * cursor points at the last row shown.
 */
export function pageOf<T>(rows: readonly T[], limit: number, keyOf: (row: T) => Keyset): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
