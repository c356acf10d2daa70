// Checks one URL through the outbound guard: HEAD first, GET when the server does not allow HEAD.
// Never throws: every outcome is a status (ok / broken / blocked) with the HTTP status or the reason.
import { AppError } from '../../../errors.ts';
import type { OutboundClient } from '../../../net/index.ts';

export type LinkStatus = 'ok' | 'broken' | 'blocked' | 'skipped';

export interface UrlOutcome {
  status: LinkStatus;
  httpStatus: number | null;
  error: string | null;
}

export interface CheckOptions {
  timeoutMs: number;
  /** Largest GET body read; a page larger than this still answered, so it counts as ok. */
  maxBytes: number;
}

const HEADERS = { 'user-agent': 'TandemLinkChecker/1.0', accept: '*/*' };

const NET_OUTCOMES: Partial<Record<string, UrlOutcome>> = {
  'net.forbidden_address': { status: 'blocked', httpStatus: null, error: 'The URL points to a private or local address.' },
  'net.too_large': { status: 'ok', httpStatus: null, error: 'The server answered with a body too large to read.' },
  'net.timeout': { status: 'broken', httpStatus: null, error: 'Timed out.' },
  'net.too_many_redirects': { status: 'broken', httpStatus: null, error: 'Too many redirects.' },
  'net.bad_url': { status: 'broken', httpStatus: null, error: 'Not a valid http(s) URL.' },
};

function outcomeOfError(err: unknown): UrlOutcome {
  if (!(err instanceof AppError)) return { status: 'broken', httpStatus: null, error: 'Could not be reached.' };
  const known = NET_OUTCOMES[err.code];
  if (known) return { ...known };
  const cause = typeof err.details['cause'] === 'string' ? ` (${err.details['cause']})` : '';
  return { status: 'broken', httpStatus: null, error: `Could not be reached${cause}.` };
}

function outcomeOfStatus(status: number): UrlOutcome {
  return status >= 400
    ? { status: 'broken', httpStatus: status, error: `HTTP ${status}` }
    : { status: 'ok', httpStatus: status, error: null };
}

export async function checkOne(outbound: OutboundClient, url: string, opts: CheckOptions): Promise<UrlOutcome> {
  try {
    // A HEAD answer declares the full length of the resource; it has no body, so no size limit.
    const head = await outbound.fetch(url, { method: 'HEAD', headers: HEADERS, timeoutMs: opts.timeoutMs, maxBytes: Number.MAX_SAFE_INTEGER });
    if (head.status !== 405 && head.status !== 501) return outcomeOfStatus(head.status);
    const get = await outbound.fetch(url, { method: 'GET', headers: HEADERS, timeoutMs: opts.timeoutMs, maxBytes: opts.maxBytes });
    return outcomeOfStatus(get.status);
  } catch (err) {
    return outcomeOfError(err);
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
