// Small helpers shared by the provider parsers: reading untrusted JSON without trusting its shape,
// constant-time comparison, the staleness window and stable event ids.
import { createHash, timingSafeEqual } from 'node:crypto';
import { checkJsonDepth, guardValue } from '../../../http/input-guard.ts';
import { InboundError, TANDEM_MESSAGE_ID_KEY, type InboundEvent, type InboundKind, type InboundOptions, type InboundProvider, type InboundRequest } from './types.ts';

export const DEFAULT_TOLERANCE_MS = 5 * 60_000;
/** Larger bodies are refused before parsing: no provider sends notifications anywhere near this. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export type Json = Record<string, unknown>;

export const payloadError = (message: string) => new InboundError(message, 'payload');
export const signatureError = (message: string) => new InboundError(message, 'signature');

/** Runs a parser and turns anything it throws that is not an InboundError into a 'payload' error. */
export async function guarded<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof InboundError) throw err;
    throw payloadError(`unreadable notification: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A request header by case-insensitive name; repeated headers joined by ", " arrive as one string. */
export function header(req: InboundRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (k.toLowerCase() === wanted && typeof v === 'string') return v;
  }
  return undefined;
}

export function rawBody(req: InboundRequest): Buffer {
  const body = req?.rawBody;
  if (!Buffer.isBuffer(body)) throw payloadError('the request has no raw body');
  if (body.length > MAX_BODY_BYTES) throw payloadError('the request body is too large');
  return body;
}

/**
 * JSON from a provider, through the same input guard as every parsed request body (depth checked on
 * the text, unstorable text replaced with U+FFFD: a provider cannot fix what it retries).
 */
export function parseJson(body: Buffer | string, what = 'the body'): unknown {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  try {
    checkJsonDepth(text);
    return guardValue(JSON.parse(text) as unknown, [], 'replace');
  } catch (err) {
    throw payloadError(err instanceof SyntaxError ? `${what} is not JSON` : `${what}: ${(err as Error).message}`);
  }
}

export function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Json : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** A string or a number as a string (ids that providers send either way). */
export function idOf(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return str(v);
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A recipient address, lower-cased; "Name <a@b>" forms are reduced to the address. */
export function emailOf(v: unknown): string {
  let s = typeof v === 'string' ? v.trim() : '';
  const angled = /<([^<>]*)>\s*$/.exec(s);
  if (angled) s = angled[1]!.trim();
  if (s.length < 3 || s.length > 320 || !/^[^\s@]+@[^\s@]+$/.test(s)) throw payloadError('a recipient address is missing or malformed');
  return s.toLowerCase();
}

/** ISO strings, RFC 2822 dates, or Unix seconds (number or digits). */
export function dateOf(v: unknown): Date | undefined {
  let d: Date | undefined;
  if (typeof v === 'number' && Number.isFinite(v)) d = new Date(v * 1000);
  else if (typeof v === 'string' && /^\d{9,11}(\.\d+)?$/.test(v.trim())) d = new Date(Number(v.trim()) * 1000);
  else if (typeof v === 'string' && v.trim()) d = new Date(v.trim());
  return d && Number.isFinite(d.getTime()) ? d : undefined;
}

/** Refuses a signed timestamp further than the tolerance from now (either way). */
export function checkFresh(signedAt: Date | undefined, opts: InboundOptions): void {
  if (!signedAt) throw payloadError('the signed timestamp is missing or malformed');
  const tolerance = opts.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  if (Math.abs(opts.now().getTime() - signedAt.getTime()) > tolerance) {
    throw new InboundError(`the notification was signed at ${signedAt.toISOString()}, outside the ${Math.round(tolerance / 1000)} s window`, 'stale');
  }
}

/** Constant-time equality that does not leak the length through an early return. */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && Buffer.from(a).length === Buffer.from(b).length;
}

/** The fallback event id: a hash of what identifies the notification, so a replay gets the same id. */
export function hashEventId(provider: InboundProvider, kind: InboundKind, email: string, providerMessageId: string | undefined, at: Date): string {
  const h = createHash('sha256').update([provider, kind, email, providerMessageId ?? '', at.toISOString()].join('\n')).digest('hex');
  return `${provider}:sha256:${h}`;
}

/** Tandem's message id from a metadata-like object (Postmark Metadata, SendGrid custom args, Mailgun user-variables). */
export function tandemIdFrom(meta: unknown): string | undefined {
  const m = obj(meta);
  return m ? idOf(m[TANDEM_MESSAGE_ID_KEY]) : undefined;
}

/** Drops undefined optional fields so events compare and serialize cleanly. */
export function event(e: InboundEvent): InboundEvent {
  const out: InboundEvent = { provider: e.provider, kind: e.kind, email: e.email, at: e.at, eventId: e.eventId };
  if (e.providerMessageId !== undefined) out.providerMessageId = e.providerMessageId;
  if (e.messageId !== undefined) out.messageId = e.messageId;
  if (e.reason !== undefined) out.reason = e.reason.slice(0, 1000);
  return out;
}
