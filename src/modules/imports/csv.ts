// The CSV side of an import: a streaming parser that knows the source line of each record, the header
// (which column is what), and a row turned into a person, their topic consent, or a row error.
import type { Readable } from 'node:stream';
import { Parser } from 'csv-parse';
import { AppError } from '../../errors.ts';
import { normaliseEmail } from '../consent/index.ts';
import type { TopicState } from '../consent/index.ts';
import type { BulkPersonRow } from '../people/index.ts';
import type { RowError, RowErrorCode } from './types.ts';

/** A record larger than this (in characters) stops the import: most likely an unclosed quote. */
const MAX_RECORD_CHARS = 1_000_000;
const MAX_ID_BYTES = 1000;
const MAX_PHONE = 50;
const MAX_VALUE = 10_000;

export const ATTRIBUTE_TYPES = ['string', 'number', 'boolean', 'date'] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

export type Column =
  | { kind: 'id' | 'email' | 'phone'; index: number; name: string }
  | { kind: 'attribute'; index: number; name: string; key: string; type: AttributeType }
  | { kind: 'topic'; index: number; name: string; topic: string };

export interface Header {
  columns: Column[];
  /** Topic keys named by topic:<key> columns. */
  topics: string[];
}

export interface ParsedRow {
  line: number;
  person: BulkPersonRow;
  /** topic key -> state, for the non-empty topic cells; null when there are none. */
  topics: Record<string, TopicState> | null;
}

/** The file is not CSV past some point (an unclosed quote, a record over 1 MB). */
export class CsvSyntaxError extends Error {
  constructor(message: string, readonly line: number | null) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

export interface CsvRecord {
  fields: string[];
  /** Line of the source file where the record starts. */
  line: number;
}

/** A parse error, pushed after the records before it (a stream error would drop those still buffered). */
interface RawError { error: Error }

/**
 * Gives each record the line it starts on. (csv-parse's `info` option copies its whole info object per
 * record, which halves the parse rate, and its line counter counts a CRLF inside quotes as two lines.)
 */
class LineParser extends Parser {
  bytes = 0;
  /** The line after the previous record, and the empty lines csv-parse had skipped before it. */
  next = 1;
  private empty = 0;

  override push(record: unknown): boolean {
    if (record === null) return super.push(null);
    const fields = record as string[];
    // A record starts past the empty lines skipped since the previous one, and spans one line more than
    // the line breaks inside its quoted fields.
    const empty = this.info.empty_lines;
    const line = this.next + (empty - this.empty);
    this.next = line + 1 + lineBreaks(fields);
    this.empty = empty;
    return super.push({ fields, line } satisfies CsvRecord);
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.bytes += chunk.length;
    super._transform(chunk, encoding, (err?: Error | null) => this.settle(err, callback));
  }

  override _flush(callback: (err?: Error | null) => void): void {
    super._flush((err?: Error | null) => this.settle(err, callback));
  }

  private settle(err: Error | null | undefined, callback: (err?: Error | null) => void): void {
    if (!err) return callback();
    super.push({ error: err } satisfies RawError);
    super.push(null);
    callback();
  }
}

export interface CsvReader {
  /** Records in file order, in batches (one await per batch, not per record). */
  batches: AsyncGenerator<CsvRecord[]>;
  /** Bytes read from the input so far. */
  bytes(): number;
}

const BATCH = 500;

function syntaxError(err: Error & { code?: string }, next: number): Error {
  if (typeof err.code !== 'string' || !err.code.startsWith('CSV_')) return err;
  const why = err.code === 'CSV_MAX_RECORD_SIZE' ? 'a record is larger than 1 MB (is a quote left open?)'
    : err.code === 'CSV_QUOTE_NOT_CLOSED' ? 'a quoted field is never closed' : err.message;
  return new CsvSyntaxError(`The file is not valid CSV after line ${next - 1}: ${why}`, next);
}

/**
 * Parses the input as it streams: UTF-8, a BOM stripped, `"` quotes with `""` escapes and line breaks
 * inside quotes, any of CRLF/LF/CR ending lines, empty lines skipped. Yields every record (the header
 * first) with the line it starts on; throws CsvSyntaxError when the file cannot be read further.
 */
export function readCsv(input: Readable): CsvReader {
  const parser = new LineParser({
    bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true,
    record_delimiter: ['\r\n', '\n', '\r'], max_record_size: MAX_RECORD_CHARS,
  });
  let ended = false;
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  parser.on('readable', () => wake?.());
  parser.on('end', () => {
    ended = true;
    wake?.();
  });
  parser.on('error', (err) => {
    failed = err;
    wake?.();
  });
  input.on('error', (err) => parser.destroy(err));
  // A connection closed mid-upload may end the request without an error: never wait for more then.
  input.on('close', () => {
    if (!input.readableEnded && !parser.destroyed) parser.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  });
  input.pipe(parser);

  async function* batches(): AsyncGenerator<CsvRecord[]> {
    try {
      for (;;) {
        const batch: CsvRecord[] = [];
        let item: CsvRecord | RawError | null = null;
        while (batch.length < BATCH && (item = parser.read() as CsvRecord | RawError | null) !== null && !('error' in item)) batch.push(item);
        if (batch.length > 0) yield batch;
        if (item !== null && 'error' in item) throw syntaxError(item.error, parser.next);
        if (batch.length > 0) continue;
        if (failed) throw syntaxError(failed, parser.next);
        if (ended) return;
        // read() answered null: 'readable' (or 'end') comes when there is more.
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      input.unpipe(parser);
      parser.destroy();
    }
  }
  return { batches: batches(), bytes: () => parser.bytes };
}

const BREAK = /\r\n|\r|\n/g;

function lineBreaks(fields: string[]): number {
  let n = 0;
  for (const f of fields) {
    if (f.includes('\n') || f.includes('\r')) n += f.match(BREAK)?.length ?? 0;
  }
  return n;
}

const IDENTITY = new Set(['id', 'email', 'phone']);

function badHeader(message: string, field: string): AppError {
  return new AppError('import.bad_header', message, { field });
}

/** Reads the header row: identity columns, typed attribute columns and topic columns. */
export function parseHeader(fields: string[]): Header {
  const columns: Column[] = [];
  const seen = new Set<string>();
  const topics: string[] = [];
  for (const [index, raw] of fields.entries()) {
    const name = raw.trim();
    if (name === '') throw badHeader(`Column ${index + 1} has no name in the header row.`, `column ${index + 1}`);
    if (name.includes('\0')) throw badHeader(`Column ${index + 1}'s name contains a NUL character.`, `column ${index + 1}`);
    const lower = name.toLowerCase();
    let col: Column;
    if (IDENTITY.has(lower)) {
      col = { kind: lower as 'id' | 'email' | 'phone', index, name };
    } else if (lower.startsWith('topic:')) {
      const topic = name.slice(6).trim();
      if (topic === '') throw badHeader(`Column "${name}" names no topic: write topic:<key>.`, name);
      col = { kind: 'topic', index, name, topic };
    } else {
      const colon = name.lastIndexOf(':');
      const type = colon < 0 ? 'string' : name.slice(colon + 1).trim().toLowerCase();
      const key = colon < 0 ? name : name.slice(0, colon).trim();
      if (!(ATTRIBUTE_TYPES as readonly string[]).includes(type)) {
        throw badHeader(`Column "${name}" has an unknown type "${type}": use :string, :number, :boolean or :date (or none).`, name);
      }
      if (key === '') throw badHeader(`Column "${name}" has a type but no name.`, name);
      if (IDENTITY.has(key.toLowerCase())) throw badHeader(`Column "${name}": ${key.toLowerCase()} takes no type.`, name);
      if (key.length > 200) throw badHeader(`Column "${name.slice(0, 40)}…" has a name longer than 200 characters.`, name.slice(0, 200));
      col = { kind: 'attribute', index, name, key, type: type as AttributeType };
    }
    const id = col.kind === 'attribute' ? `a:${col.key}` : col.kind === 'topic' ? `t:${col.topic}` : col.kind;
    if (seen.has(id)) throw badHeader(`Column "${name}" is given twice in the header row.`, name);
    seen.add(id);
    if (col.kind === 'topic') topics.push(col.topic);
    columns.push(col);
  }
  if (!columns.some((c) => c.kind === 'id' || c.kind === 'email' || c.kind === 'phone')) {
    throw badHeader('The header row names none of the identifying columns: id, email, phone.', 'header');
  }
  return { columns, topics };
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEANS: Record<string, boolean> = { true: true, false: false, yes: true, no: false, '1': true, '0': false };
const CONSENT: Record<string, TopicState> = {
  subscribed: 'subscribed', unsubscribed: 'unsubscribed', true: 'subscribed', false: 'unsubscribed',
  yes: 'subscribed', no: 'unsubscribed', '1': 'subscribed', '0': 'unsubscribed',
};
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

function parseDate(v: string): string | undefined {
  const d = DATE_ONLY.exec(v);
  if (d) {
    const date = new Date(Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3])));
    // 2026-02-30 rolls over to March: not a date.
    return date.getUTCDate() === Number(d[3]) && date.getUTCMonth() === Number(d[2]) - 1 ? v : undefined;
  }
  if (!DATE_TIME.test(v)) return undefined;
  const t = Date.parse(v.replace(' ', 'T'));
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

class RowFault extends Error {
  constructor(readonly field: string | null, readonly code: RowErrorCode, message: string) {
    super(message);
  }
}

function typed(col: Extract<Column, { kind: 'attribute' }>, raw: string): unknown {
  const v = raw.trim();
  switch (col.type) {
    case 'string':
      if (raw.length > MAX_VALUE) throw new RowFault(col.name, 'too_long', `${col.name}: longer than ${MAX_VALUE} characters`);
      return raw;
    case 'number': {
      const n = Number(v);
      if (!NUMBER.test(v) || !Number.isFinite(n)) throw new RowFault(col.name, 'invalid_number', `${col.name}: "${v.slice(0, 50)}" is not a number`);
      return n;
    }
    case 'boolean': {
      const b = BOOLEANS[v.toLowerCase()];
      if (b === undefined) throw new RowFault(col.name, 'invalid_boolean', `${col.name}: "${v.slice(0, 50)}" is not true/false, yes/no or 1/0`);
      return b;
    }
    case 'date': {
      const d = parseDate(v);
      if (d === undefined) throw new RowFault(col.name, 'invalid_date', `${col.name}: "${v.slice(0, 50)}" is not an ISO 8601 date (2026-03-01) or date-time with an offset (2026-03-01T09:30:00Z)`);
      return d;
    }
  }
}

/** Turns one record into a person (and their topic consent), or the row's first error. */
export function parseRow(header: Header, rec: CsvRecord): ParsedRow | RowError {
  const { fields, line } = rec;
  if (fields.length !== header.columns.length) {
    return { line, field: null, code: 'column_count', message: `The row has ${fields.length} fields; the header has ${header.columns.length}.` };
  }
  const person: BulkPersonRow = { attributes: {} };
  let topics: Record<string, TopicState> | null = null;
  try {
    for (const col of header.columns) {
      const raw = fields[col.index] ?? '';
      if (raw.trim() === '') continue; // an empty cell leaves the value as it is
      if (raw.includes('\0')) throw new RowFault(col.name, 'invalid_value', `${col.name}: contains a NUL character`);
      switch (col.kind) {
        case 'id': {
          const v = raw.trim();
          // Bytes, not characters: a user id is a key of a btree index, whose entries must stay small.
          if (Buffer.byteLength(v) > MAX_ID_BYTES) throw new RowFault(col.name, 'too_long', `${col.name}: longer than ${MAX_ID_BYTES} bytes`);
          person.userId = v;
          break;
        }
        case 'email': {
          const v = raw.trim();
          if (normaliseEmail(v) === null) throw new RowFault(col.name, 'invalid_email', `${col.name}: "${v.slice(0, 100)}" is not an email address`);
          person.email = v;
          break;
        }
        case 'phone': {
          const v = raw.trim();
          if (v.length > MAX_PHONE) throw new RowFault(col.name, 'too_long', `${col.name}: longer than ${MAX_PHONE} characters`);
          person.phone = v;
          break;
        }
        case 'topic': {
          const state = CONSENT[raw.trim().toLowerCase()];
          if (state === undefined) {
            throw new RowFault(col.name, 'invalid_consent', `${col.name}: "${raw.trim().slice(0, 50)}" is not subscribed/unsubscribed, true/false, yes/no or 1/0`);
          }
          (topics ??= {})[col.topic] = state;
          break;
        }
        case 'attribute':
          person.attributes[col.key] = typed(col, raw);
          break;
      }
    }
  } catch (err) {
    if (err instanceof RowFault) return { line, field: err.field, code: err.code, message: err.message };
    throw err;
  }
  if (person.userId === undefined && person.email === undefined && person.phone === undefined) {
    return { line, field: null, code: 'missing_identity', message: 'The row has no id, email or phone.' };
  }
  return { line, person, topics };
}

export function isRowError(r: ParsedRow | RowError): r is RowError {
  return 'code' in r;
}
