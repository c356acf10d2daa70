// Segment HTTP Tracking API payloads -> IncomingEvent. Pure: no HTTP, no database.
// Every rejection is an AppError naming the first failing field ("batch[3].userId").
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { cleanJson, fieldOf as fieldOfPath, MAX_JSON_DEPTH, type EventKind, type IncomingEvent, type Json } from '../ingest/index.ts';

export const MAX_EVENT_BYTES = 32 * 1024;
export const MAX_BATCH_BYTES = 500 * 1024;
/** Segment's documented cap on events per batch request. */
export const MAX_BATCH_EVENTS = 2500;
/** Ids and names land in btree indexes, whose entries must stay well under PostgreSQL's ~2.7 KB. */
export const MAX_ID_CHARS = 500;
export const MAX_DEPTH = MAX_JSON_DEPTH;

export const SEGMENT_KINDS = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const satisfies readonly EventKind[];
export type SegmentKind = (typeof SEGMENT_KINDS)[number];

export interface RequestFacts {
  /** When the request arrived (the injected clock). */
  receivedAt: Date;
  /** The caller's IP; becomes context.ip when the event carries none (Segment does the same). */
  ip: string;
}

type Path = Array<string | number>;

const fieldOf = fieldOfPath;

function invalid(path: Readonly<Path>, why: string): AppError {
  const field = fieldOf(path);
  return new AppError('request.invalid', `${field}: ${why}`, { field });
}

// ---------------------------------------------------------------------------------------------
// Timestamps: ISO-8601 date or date-time. A date-time without an offset is read as UTC so that
// the server's own time zone never changes what is stored.

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

export function parseIsoDate(s: string): Date | null {
  const m = ISO.exec(s.trim());
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
  const base = new Date(0);
  base.setUTCFullYear(year, month - 1, day); // setUTCFullYear keeps years 0-99 literal (Date.UTC does not)
  if (base.getUTCDate() !== day) return null; // 2024-02-30
  let t = base.getTime() + ((hour * 60 + minute) * 60 + Math.min(second, 59)) * 1000 + ms;
  const zone = m[8];
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2));
    const offM = Number(digits.slice(2) || 0);
    if (offH > 23 || offM > 59) return null;
    t -= sign * (offH * 60 + offM) * 60_000;
  }
  return new Date(t);
}

// PostgreSQL's timestamptz reaches from 4713 BC to 294276 AD; corrected times stay in years 1-9999.
const MIN_TIME = Date.parse('0001-01-01T00:00:00Z');
const MAX_TIME = Date.parse('9999-12-31T23:59:59Z');

/**
 * Segment's clock-skew rule: timestamp = receivedAt - (sentAt - originalTimestamp).
 * No sentAt: the given timestamp. No timestamp: receivedAt. A correction that would leave the
 * storable range (absurd client clocks) falls back to the given timestamp.
 */
export function correctTimestamp(receivedAt: Date, original: Date | null, sentAt: Date | null): Date {
  if (!original) return receivedAt;
  if (!sentAt) return original;
  const t = receivedAt.getTime() - (sentAt.getTime() - original.getTime());
  return t >= MIN_TIME && t <= MAX_TIME ? new Date(t) : original;
}

// ---------------------------------------------------------------------------------------------
// Schemas. Segment coerces a numeric id to a string; so do we. An empty id counts as absent.

const coerceId = (v: unknown): unknown => (typeof v === 'number' && Number.isFinite(v) ? String(v) : v);
const optionalId = z.preprocess(coerceId, z.string().max(MAX_ID_CHARS).nullish());
const requiredId = z.preprocess(coerceId, z.string().min(1).max(MAX_ID_CHARS));
const optionalName = z.string().max(MAX_ID_CHARS).nullish();
// A check, not a copy: the body was already deep-copied by cleanJson, and a z.record() would
// rebuild every properties/context object key by key.
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const optionalObject = z.custom<Json>(isObject, { message: 'expected an object' }).nullish();
const isoDate = z.string().transform((s, ctx) => {
  const d = parseIsoDate(s);
  if (!d) {
    ctx.addIssue({ code: 'custom', message: 'expected an ISO-8601 date-time' });
    return z.NEVER;
  }
  // The input guard refuses years outside 0001-9999; an offset can still carry 0001-01-01 into year 0.
  if (d.getTime() < MIN_TIME || d.getTime() > MAX_TIME) {
    ctx.addIssue({ code: 'custom', message: 'a date must be in the years 0001-9999' });
    return z.NEVER;
  }
  return d;
});
const optionalDate = isoDate.nullish();

const common = {
  userId: optionalId,
  anonymousId: optionalId,
  messageId: optionalId,
  context: optionalObject,
  timestamp: optionalDate,
  originalTimestamp: optionalDate,
  sentAt: optionalDate,
};

const schemas = {
  identify: z.looseObject({ ...common, traits: optionalObject }),
  track: z.looseObject({ ...common, event: z.string().min(1).max(MAX_ID_CHARS), properties: optionalObject }),
  page: z.looseObject({ ...common, name: optionalName, category: optionalName, properties: optionalObject }),
  screen: z.looseObject({ ...common, name: optionalName, category: optionalName, properties: optionalObject }),
  group: z.looseObject({ ...common, groupId: requiredId, traits: optionalObject }),
  alias: z.looseObject({ ...common, previousId: requiredId }),
} satisfies Record<SegmentKind, z.ZodType>;

type Parsed = z.infer<(typeof schemas)['identify']> & {
  traits?: Json | null; properties?: Json | null; event?: string; name?: string | null; category?: string | null;
  groupId?: string; previousId?: string;
};

function parseWith<T>(schema: z.ZodType<T>, value: unknown, path: Readonly<Path>): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const at = [...path, ...(issue?.path ?? []).map((p) => (typeof p === 'number' ? p : String(p)))];
  throw invalid(at, issue?.message ?? 'invalid');
}

interface CallOptions extends RequestFacts {
  /** The batch's sentAt, used when the event has none of its own. */
  batchSentAt?: Date | null;
  /** The batch's context: applies to every call, the call's own keys win. */
  batchContext?: Json | null;
}

/** One Segment call (already cleaned) -> IncomingEvent. `path` prefixes error fields. */
export function normalizeCall(kind: SegmentKind, raw: unknown, opts: CallOptions, path: Readonly<Path> = []): IncomingEvent {
  const p = parseWith(schemas[kind], raw, path) as Parsed;
  const userId = p.userId || null;
  const anonymousId = p.anonymousId || null;
  if (!userId && !anonymousId) {
    throw new AppError('event.missing_identity', undefined, { field: fieldOf([...path, 'userId']) });
  }
  if (kind === 'alias' && !userId) {
    throw new AppError('event.missing_identity', 'An alias call needs a userId (the id previousId merges into).',
      { field: fieldOf([...path, 'userId']) });
  }

  const context: Json = { ...(opts.batchContext ?? {}), ...(p.context ?? {}) };
  if (context.ip === undefined || context.ip === null || context.ip === '') context.ip = opts.ip;
  const original = p.timestamp ?? p.originalTimestamp ?? null;
  const event: IncomingEvent = {
    type: kind,
    name: null,
    userId,
    anonymousId,
    messageId: p.messageId || null,
    context,
    timestamp: correctTimestamp(opts.receivedAt, original, p.sentAt ?? opts.batchSentAt ?? null),
  };

  switch (kind) {
    case 'identify':
      event.traits = p.traits ?? {};
      break;
    case 'track':
      event.name = p.event ?? null;
      event.properties = p.properties ?? {};
      break;
    case 'page':
    case 'screen': {
      const properties: Json = { ...(p.properties ?? {}) };
      const fromProps = properties.name;
      event.name = p.name || (typeof fromProps === 'string' && fromProps && fromProps.length <= MAX_ID_CHARS ? fromProps : null);
      if (p.category && properties.category === undefined) properties.category = p.category;
      event.properties = properties;
      break;
    }
    case 'group':
      event.groupId = p.groupId ?? null;
      event.objectType = 'group';
      event.traits = p.traits ?? {};
      break;
    case 'alias':
      event.previousId = p.previousId ?? null;
      break;
  }
  return event;
}

/** A single call's body: cleaned, validated, normalised. */
export function normalizeSingle(kind: SegmentKind, body: unknown, facts: RequestFacts): IncomingEvent {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid([], 'expected a JSON object');
  return normalizeCall(kind, cleanJson(body), facts);
}

const batchSchema = z.looseObject({
  batch: z.array(z.unknown()).max(MAX_BATCH_EVENTS),
  context: optionalObject,
  sentAt: optionalDate,
});
const kindSchema = z.enum(SEGMENT_KINDS);

/**
 * Whether value's JSON is larger than limit bytes. A walk that counts characters settles almost every
 * event without serialising it: a UTF-16 unit takes 1 to 6 bytes in JSON (3 in UTF-8, 6 as a \u escape),
 * so only the doubtful band between limit/6 and limit characters pays for JSON.stringify.
 */
export function jsonBytesOver(value: unknown, limit: number): boolean {
  let chars = 0;
  const walk = (v: unknown): boolean => {
    if (typeof v === 'string') chars += v.length + 2;
    else if (v === null || typeof v !== 'object') chars += 24; // numbers, booleans, null: at most this long
    else if (Array.isArray(v)) {
      chars += 2 + v.length;
      for (const x of v) if (walk(x)) return true;
    } else {
      chars += 2;
      for (const [k, x] of Object.entries(v)) {
        chars += k.length + 4;
        if (walk(x)) return true;
      }
    }
    return chars > limit;
  };
  if (walk(value)) return Buffer.byteLength(JSON.stringify(value) ?? '') > limit;
  if (chars <= limit / 6) return false;
  return Buffer.byteLength(JSON.stringify(value) ?? '') > limit;
}

/**
 * A batch body -> events, all or nothing: the first invalid event rejects the whole batch
 * (400 naming its field) and none of it is stored.
 */
export function normalizeBatch(body: unknown, facts: RequestFacts): IncomingEvent[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid([], 'expected a JSON object');
  const raw = body as { batch?: unknown };
  if (Array.isArray(raw.batch) && raw.batch.length > MAX_BATCH_EVENTS) {
    throw new AppError('batch.too_large', `A batch holds at most ${MAX_BATCH_EVENTS} events.`, { field: 'batch' });
  }
  const cleaned = cleanJson(body);
  const b = parseWith(batchSchema, cleaned, []);
  const opts: CallOptions = { ...facts, batchSentAt: b.sentAt ?? null, batchContext: b.context ?? null };
  const rawItems = raw.batch as unknown[];
  return b.batch.map((item, i) => {
    if (jsonBytesOver(rawItems[i], MAX_EVENT_BYTES)) {
      throw new AppError('event.too_large', `batch[${i}] is larger than 32 KB.`, { field: `batch[${i}]` });
    }
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw invalid(['batch', i], 'expected a JSON object');
    const kind = parseWith(kindSchema, (item as { type?: unknown }).type, ['batch', i, 'type']);
    return normalizeCall(kind, item, opts, ['batch', i]);
  });
}
