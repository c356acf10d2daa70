// Shared plumbing for the adapters: one POST with a hard deadline, and the mapping from an answer
// to a ProviderError kind. Provider endpoints are fixed by the operator, so plain fetch is used
// (not src/net, which exists for user-supplied URLs).
import { ProviderError, type HttpOptions, type ProviderErrorKind } from './types.ts';

export const DEFAULT_TIMEOUT_MS = 15_000;
/** Provider answers are a few hundred bytes; anything longer is cut in error messages. */
const DETAIL_CHARS = 300;

export interface Answer { status: number; headers: Headers; text: string }

export interface PostInit { headers: Record<string, string>; body: string | Uint8Array }

/**
 * POSTs and reads the whole answer within the deadline. Anything that goes wrong before an answer
 * is read (refused connection, reset, DNS, timeout, a fetch that throws) is retryable: the request
 * may or may not have arrived, and the caller's idempotency decides what a retry costs.
 */
export async function post(provider: string, url: string, init: PostInit, opts: HttpOptions): Promise<Answer> {
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  // Raced as well as passed as a signal, so an injected fetch that ignores the signal still times out.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new ProviderError(`${provider}: no answer within ${timeoutMs} ms`, 'retryable'));
    }, timeoutMs);
  });
  const attempt = (async () => {
    const res = await doFetch(url, {
      method: 'POST', headers: init.headers, body: init.body, signal: controller.signal, redirect: 'manual',
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text };
  })();
  // Whichever branch loses the race may still reject later (the abort); that is expected, not unhandled.
  attempt.catch(() => undefined);
  deadline.catch(() => undefined);
  try {
    return await Promise.race([attempt, deadline]);
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    throw new ProviderError(`${provider}: request failed: ${describe(err)}`, 'retryable');
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    const inner = cause instanceof Error ? ` (${cause.message})` : '';
    return `${err.message}${inner}`.slice(0, DETAIL_CHARS);
  }
  return String(err).slice(0, DETAIL_CHARS);
}

/** The kind an HTTP status alone implies; adapters refine it with the provider's own error codes. */
export function kindForStatus(status: number): ProviderErrorKind {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408 || status >= 500) return 'retryable';
  if (status >= 400) return 'permanent';
  // 1xx/3xx as a final answer: not the provider's API speaking (a proxy, a moved endpoint).
  return 'retryable';
}

/** Retry-After as delay-seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d{1,10}$/.test(v)) return Number(v) * 1000;
  // Only real HTTP dates: Date.parse alone reads "1" or "5 apples" as dates.
  if (!/^[A-Za-z]{3},? .*\d{2}:\d{2}:\d{2} GMT$/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The answer body as JSON when it is a JSON object, else undefined (never throws). */
export function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * A ProviderError for a non-success answer; `kind` overrides the status mapping when the provider's
 * code says more. A rate limit's delay comes from Retry-After, else from `fallbackRetryAfterMs`; a 503's from
 * Retry-After when it has one.
 */
export function failure(
  provider: string, answer: Answer, detail: string | undefined, kind?: ProviderErrorKind, fallbackRetryAfterMs?: number,
): ProviderError {
  const k = kind ?? kindForStatus(answer.status);
  const text = (detail ?? answer.text).replace(/\s+/g, ' ').trim().slice(0, DETAIL_CHARS);
  // RFC 9110: Retry-After on a 429 says when to try again, on a 503 how long the outage lasts; both are honoured.
  const asked = parseRetryAfter(answer.headers.get('retry-after'));
  const retryAfterMs = k === 'rate_limited' ? asked ?? fallbackRetryAfterMs : k === 'retryable' && answer.status === 503 ? asked : undefined;
  return new ProviderError(`${provider} answered ${answer.status}${text ? `: ${text}` : ''}`, k, answer.status, retryAfterMs);
}

/**
 * A 2xx whose body lacks the message id. The provider most likely accepted the message, so a retry
 * could deliver it twice; giving up on this one message is the safer failure.
 */
export function missingId(provider: string, answer: Answer): ProviderError {
  return new ProviderError(
    `${provider} answered ${answer.status} without a message id: ${answer.text.slice(0, DETAIL_CHARS)}`, 'permanent', answer.status,
  );
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** `"Name" <address>` with the name quoted, or the bare address. Line breaks never reach a header. */
export function formatAddress(a: { address: string; name?: string }): string {
  const address = oneLine(a.address);
  if (!a.name) return address;
  const name = oneLine(a.name).replace(/["\\]/g, (c) => `\\${c}`);
  return `"${name}" <${address}>`;
}

export function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

const HEADER_NAME = /^[!-9;-~]+$/;

/**
 * The extra headers, checked before anything is sent: a name that is not a valid header field name
 * would be refused (or worse, smuggled) by every provider, so it fails this message only.
 */
export function checkedHeaders(provider: string, headers: Record<string, string>): [string, string][] {
  return Object.entries(headers).map(([name, value]) => {
    if (!HEADER_NAME.test(name)) throw new ProviderError(`${provider}: invalid header name ${JSON.stringify(name.slice(0, 80))}`, 'permanent');
    return [name, oneLine(value)];
  });
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/** A provider's error code looked up in our table: own keys only (a code like "__proto__" is just unknown). */
export function kindOf<T>(table: Readonly<Record<string | number, T>>, key: string | number | undefined): T | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}
