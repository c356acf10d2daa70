// One input guard where requests enter. Every route's body, query string and path parameters pass
// through it before any route code (schema validation included) sees them, so no route can forget it:
// - U+0000 and unpaired UTF-16 surrogates (JSON allows both, PostgreSQL text and jsonb refuse them),
//   in values and in object keys;
// - nesting deeper than INPUT_LIMITS.maxDepth (checked on the JSON text before parsing, and again
//   without recursion on whatever a parser produced);
// - arrays and objects with more items or keys than any route accepts;
// - numbers that are not finite (JSON's 1e400 parses as Infinity);
// - strings shaped as ISO-8601 dates that name no real date or fall outside years 0001-9999.
// Failures answer 400 request.invalid naming the field: "batch[3].timestamp", "querystring.q",
// "params.identifier" (body fields unprefixed, as the schema validator names them).
//
// Ingest routes (Segment, Customer.io Track) opt into `inputText: 'replace'`: there text PostgreSQL
// cannot store becomes U+FFFD instead of failing the request (documented in docs/api.md, and what an
// SDK that cannot fix its payload needs), and only the calls' own timestamps get the date rule.
import type { FastifyRequest, preValidationHookHandler } from 'fastify';
import { AppError } from '../errors.ts';
import { fieldPath } from './errors.ts';
import type { TandemApp } from './types.ts';

export const INPUT_LIMITS = {
  /** Containers inside containers; the Segment and Customer.io limits (64) are the same figure. */
  maxDepth: 64,
  /** Items in one array: the largest documented list (a Segment batch) is 2,500. */
  maxArrayItems: 10_000,
  /** Keys in one object. */
  maxObjectKeys: 10_000,
  minYear: 1,
  maxYear: 9999,
} as const;

export type TextPolicy = 'reject' | 'replace';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the input guard does with U+0000 and unpaired surrogates in the body (default: reject). */
    inputText?: TextPolicy;
  }
}

type Path = Array<string | number>;

// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// eslint-disable-next-line no-control-regex -- as above
const UNSTORABLE_ALL = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** YYYY-MM-DD (or an extended ±YYYYYY year), alone or followed by a time. */
const ISO_DATE = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})(?:$|[Tt ]\d{2}:\d{2})/;
/** Where the replace policy still checks dates: a call's own timestamps (top level or in a batch). */
const CALL_TIMESTAMPS = new Set(['timestamp', 'originalTimestamp', 'sentAt', 'receivedAt']);

function invalid(path: Readonly<Path>, why: string): AppError {
  const field = fieldPath(path) || 'body';
  return new AppError('request.invalid', `${field}: ${why}`, { field });
}

function textProblem(s: string): string | undefined {
  if (!UNSTORABLE.test(s)) return undefined;
  return s.includes('\u0000') ? 'must not contain NUL (U+0000) characters' : 'must not contain unpaired UTF-16 surrogates';
}

/** Why a date-shaped string is refused, or undefined (also for strings that are not date-shaped). */
export function dateProblem(s: string): string | undefined {
  const m = ISO_DATE.exec(s);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < INPUT_LIMITS.minYear || year > INPUT_LIMITS.maxYear) {
    return `a date must be in the years ${String(INPUT_LIMITS.minYear).padStart(4, '0')}-${INPUT_LIMITS.maxYear}`;
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  if (month < 1 || month > 12 || d.getUTCDate() !== day) return 'is not a real calendar date';
  return undefined;
}

interface Frame { value: unknown; parent: Frame | undefined; key: string | number | undefined; depth: number }

function pathOf(frame: Frame | undefined, prefix: Readonly<Path>): Path {
  const out: Path = [];
  for (let f = frame; f && f.key !== undefined; f = f.parent) out.push(f.key);
  return [...prefix, ...out.reverse()];
}

/**
 * Checks (and under 'replace', cleans in place) a parsed value; returns it. Iterative: a value nested
 * 10,000 deep is refused without a stack frame per level. `prefix` is where the value sits.
 */
export function guardValue(value: unknown, prefix: Readonly<Path>, policy: TextPolicy = 'reject'): unknown {
  if (typeof value === 'string') return guardString(value, () => [...prefix], policy, false);
  if (typeof value === 'number' && !Number.isFinite(value)) throw invalid(prefix, 'must be a finite number');
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const stack: Frame[] = [{ value, parent: undefined, key: undefined, depth: 1 }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const here = (): Path => pathOf(frame, prefix);
    if (frame.depth > INPUT_LIMITS.maxDepth) throw invalid(here(), `nested deeper than ${INPUT_LIMITS.maxDepth} levels`);
    const container = frame.value as Record<string | number, unknown>;
    const isArray = Array.isArray(container);
    const keys: Array<string | number> = isArray ? [] : Object.keys(container);
    const count = isArray ? container.length : keys.length;
    if (isArray && count > INPUT_LIMITS.maxArrayItems) throw invalid(here(), `has more than ${INPUT_LIMITS.maxArrayItems} items`);
    if (!isArray && count > INPUT_LIMITS.maxObjectKeys) throw invalid(here(), `has more than ${INPUT_LIMITS.maxObjectKeys} keys`);
    // A call's own timestamps sit at depth 1 (a single call) or in batch[i] (depth 3).
    const callLevel = frame.depth === 1 || (frame.depth === 3 && frame.parent?.key === 'batch');
    for (let i = 0; i < count; i++) {
      let key: string | number = isArray ? i : keys[i]!;
      if (typeof key === 'string' && UNSTORABLE.test(key)) key = guardKey(container, key, here, policy);
      const v = container[key];
      const at = (): Path => [...here(), key];
      if (typeof v === 'string') {
        const out = guardString(v, at, policy, callLevel && CALL_TIMESTAMPS.has(String(key)));
        if (out !== v) container[key] = out;
      } else if (typeof v === 'number') {
        if (!Number.isFinite(v)) throw invalid(at(), 'must be a finite number');
      } else if (v !== null && typeof v === 'object') {
        stack.push({ value: v, parent: frame, key, depth: frame.depth + 1 });
      }
    }
  }
  return value;
}

/** A key with unstorable text: refused, or renamed (defineProperty: "__proto__" stays plain data). */
function guardKey(container: Record<string, unknown>, key: string, here: () => Path, policy: TextPolicy): string {
  if (policy === 'reject') throw invalid([...here(), key], `key ${textProblem(key) ?? 'is not valid'}`);
  const clean = key.replace(UNSTORABLE_ALL, '\uFFFD');
  const v = Object.getOwnPropertyDescriptor(container, key)?.value as unknown;
  delete container[key];
  Object.defineProperty(container, clean, { value: v, enumerable: true, writable: true, configurable: true });
  return clean;
}

function guardString(s: string, where: () => Path, policy: TextPolicy, timestampField: boolean): string {
  let out = s;
  const problem = textProblem(s);
  if (problem) {
    if (policy === 'reject') throw invalid(where(), problem);
    out = s.replace(UNSTORABLE_ALL, '\uFFFD');
  }
  if (policy === 'reject' || timestampField) {
    const bad = dateProblem(out);
    if (bad) throw invalid(where(), bad);
  }
  return out;
}

/**
 * The depth of JSON text, before it is parsed: a 1 MB body of brackets is refused in one linear pass
 * instead of being built (JSON.parse spends about a second on it) and then walked. The path of the
 * container that went too deep is reconstructed from the keys and indexes seen on the way.
 */
export function checkJsonDepth(text: string, maxDepth: number = INPUT_LIMITS.maxDepth): void {
  // Per open container: array index, or the start/end offsets of the current key's quoted text.
  const stack: Array<{ array: boolean; index: number; keyStart: number; keyEnd: number }> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top && !top.array) {
        top.keyStart = start;
        top.keyEnd = i + 1;
        expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) throw invalid(jsonTextPath(text, stack), `nested deeper than ${maxDepth} levels`);
      stack.push({ array: c === 0x5b, index: 0, keyStart: -1, keyEnd: -1 });
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.array) top.index++;
      else expectKey = true;
    }
  }
}

function jsonTextPath(text: string, stack: ReadonlyArray<{ array: boolean; index: number; keyStart: number; keyEnd: number }>): Path {
  return stack.map((f) => {
    if (f.array) return f.index;
    try {
      return JSON.parse(text.slice(f.keyStart, f.keyEnd)) as string;
    } catch {
      return '?';
    }
  });
}

/** The default JSON parser behind the depth check; `allowEmpty` makes an empty body mean no body. */
export function guardedJsonParser(app: TandemApp, allowEmpty = false) {
  const parse = app.getDefaultJsonParser('error', 'ignore');
  return (request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void): void => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (allowEmpty && text === '') {
      done(null, undefined);
      return;
    }
    try {
      checkJsonDepth(text);
    } catch (err) {
      done(err as Error, undefined);
      return;
    }
    void parse(request, text, done);
  };
}

const guardRequest: preValidationHookHandler = (request, _reply, done) => {
  try {
    const params = request.params as Record<string, unknown> | undefined;
    if (params && typeof params === 'object') guardValue(params, ['params']);
    const query = request.query as Record<string, unknown> | undefined;
    if (query && typeof query === 'object') guardValue(query, ['querystring']);
    const body = request.body;
    const policy = request.routeOptions.config.inputText ?? 'reject';
    if (typeof body === 'string') request.body = guardValue(body, ['body'], policy);
    else if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body) && typeof (body as { pipe?: unknown }).pipe !== 'function') {
      request.body = guardValue(body, [], policy);
    }
  } catch (err) {
    done(err as Error);
    return;
  }
  done();
};

/**
 * Installs the guard on the root instance, before any route is registered, so every route and every
 * plugin scope inherits it: the JSON parsers (application/json, and text/plain as analytics.js sends
 * JSON) check depth on the text, and a preValidation hook walks params, query and body.
 */
export function registerInputGuard(app: TandemApp): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, guardedJsonParser(app));
  // analytics.js sends JSON as text/plain to avoid CORS preflights; parse it as JSON.
  const textJson = guardedJsonParser(app, true);
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (request, body, done) => {
    textJson(request, body, (err, parsed) => {
      if (err && !(err instanceof AppError)) done(new AppError('request.invalid_json', err.message, { field: 'body' }), undefined);
      else done(err, parsed);
    });
  });
  app.addHook('preValidation', guardRequest);
}
