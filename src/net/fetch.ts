// Outbound HTTP that cannot be pointed at private networks. The host is resolved here, every address is
// vetted, and the socket connects to exactly the vetted address (the lookup hands net.connect the
// addresses it checked), so DNS cannot answer differently between the check and the connect.
// Redirects are followed by hand and every hop is checked again.
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, buildConnector, request } from 'undici';
import { AppError } from '../errors.ts';
import { outboundPolicy, systemResolver, type Resolver } from './connect.ts';
import { isAddressAllowed, type PrivatePolicy } from './guard.ts';

export type { Resolver };

export interface OutboundOptions {
  /** true reaches any address (trusted networks only); a list of CIDRs allows just those private ranges. */
  allowPrivate?: boolean | readonly string[];
  /** Time to open a connection (TCP and TLS), per hop. Default 5 s. */
  connectTimeoutMs?: number;
  /** Time for the whole exchange, every redirect and the body included. Default 15 s. */
  timeoutMs?: number;
  /** Largest response body accepted. Default 5 MiB. */
  maxBytes?: number;
  /** Redirects followed before giving up. Default 5. */
  maxRedirects?: number;
  resolve?: Resolver;
}

export interface SafeRequest {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** 'manual' answers a 3xx as it is (webhooks); 'follow' (default) follows up to maxRedirects hops. */
  redirect?: 'follow' | 'manual';
  signal?: AbortSignal;
  /** Per-request overrides of the client's limits. */
  maxBytes?: number;
  timeoutMs?: number;
}

export interface SafeResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** The URL that answered, after redirects. */
  url: string;
  redirects: number;
}

export interface OutboundClient {
  fetch(url: string, req?: SafeRequest): Promise<SafeResponse>;
  close(): Promise<void>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

function forbidden(host: string): AppError {
  return new AppError('net.forbidden_address', undefined, { host });
}

/** Parse and check a URL before any connection: scheme, and the host when it is a literal address. */
export function checkUrl(raw: string | URL, policy: PrivatePolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('net.bad_url', undefined, { url: String(raw) });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AppError('net.bad_url', 'Only http and https URLs can be fetched.', { url: url.href });
  }
  // The WHATWG parser has already turned 2130706433, 0x7f.1, 0177.0.0.1 and 127.1 into 127.0.0.1,
  // and [::ffff:127.0.0.1] into [::ffff:7f00:1]; what is left is either an address or a name.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) && !isAddressAllowed(host, policy)) throw forbidden(url.hostname);
  return url;
}

function guardedConnector(policy: PrivatePolicy, resolve: Resolver, connectTimeoutMs: number): buildConnector.connector {
  // net.connect calls this for host names only; it connects to exactly the addresses passed to the callback.
  const lookup = (
    hostname: string,
    options: LookupOptions,
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    resolve(hostname).then((found) => {
      // One forbidden record refuses the host: mixing public and private answers is how rebinding starts.
      if (found.some((a) => !isAddressAllowed(a.address, policy))) {
        callback(forbidden(hostname), []);
        return;
      }
      const wanted = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found;
      const first = wanted[0];
      if (!first) {
        callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
        return;
      }
      if (options.all) callback(null, [...wanted]);
      else callback(null, first.address, first.family);
    }, (err: Error) => callback(err, []));
  };
  const base = buildConnector({ timeout: connectTimeoutMs, lookup });
  return (opts, callback) => {
    // Literal addresses skip lookup inside net.connect, so they are checked here as well as in checkUrl.
    if (isIP(opts.hostname) && !isAddressAllowed(opts.hostname, policy)) {
      callback(forbidden(opts.hostname), null);
      return;
    }
    base(opts, callback);
  };
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Drop a body mid-stream: the socket closes; the abort error it raises is expected, not a crash. */
function discard(body: { on(event: 'error', fn: () => void): unknown; destroy(): unknown }): void {
  body.on('error', () => undefined);
  body.destroy();
}

/**
 * Refused, closed, filtered, timed out or unresolvable: one answer, so the reason cannot map a network
 * (the original error stays on `cause`, for logs).
 */
function toAppError(err: unknown, url: URL, callerSignal: AbortSignal | undefined, timedOut: boolean): unknown {
  if (err instanceof AppError) return err;
  if (callerSignal?.aborted && !timedOut) return err;
  const out = new AppError('net.unreachable', undefined, { url: url.href });
  Object.defineProperty(out, 'cause', { value: err, enumerable: false });
  return out;
}

/** A client with its own connection pool; keep one per policy and close it on shutdown. */
export function createOutboundClient(options: OutboundOptions = {}): OutboundClient {
  const allow = options.allowPrivate ?? false;
  const policy: PrivatePolicy = outboundPolicy(allow);
  const maxRedirects = options.maxRedirects ?? 5;
  const agent = new Agent({
    connect: guardedConnector(policy, options.resolve ?? systemResolver, options.connectTimeoutMs ?? 5_000),
  });

  async function fetchOnce(url: string, req: SafeRequest = {}): Promise<SafeResponse> {
    const timeoutMs = req.timeoutMs ?? options.timeoutMs ?? 15_000;
    const maxBytes = req.maxBytes ?? options.maxBytes ?? 5 * 1024 * 1024;
    const timer = new AbortController();
    const handle = setTimeout(() => timer.abort(), timeoutMs);
    const signal = req.signal ? AbortSignal.any([timer.signal, req.signal]) : timer.signal;
    let current = checkUrl(url, policy);
    let method = req.method ?? 'GET';
    let body = req.body;
    const headers = { ...req.headers };
    try {
      for (let hop = 0; ; hop++) {
        const res = await request(current, {
          dispatcher: agent, method, headers, body, signal,
          headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
        });
        const location = res.headers.location;
        if (REDIRECTS.has(res.statusCode) && req.redirect !== 'manual' && typeof location === 'string') {
          await res.body.dump({ limit: 16_384 }).catch(() => undefined);
          if (hop >= maxRedirects) throw new AppError('net.too_many_redirects', undefined, { url: current.href });
          const next = checkUrl(new URL(location, current), policy);
          if (next.origin !== current.origin) for (const h of Object.keys(headers)) if (CREDENTIAL_HEADERS.includes(h.toLowerCase())) delete headers[h];
          // 303, and 301/302 after a POST, turn into a GET without a body (as browsers and fetch do).
          if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
            if (method !== 'HEAD') method = 'GET';
            body = undefined;
            for (const h of Object.keys(headers)) if (h.toLowerCase().startsWith('content-')) delete headers[h];
          }
          current = next;
          continue;
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes) {
          discard(res.body);
          throw new AppError('net.too_large', undefined, { url: current.href, maxBytes });
        }
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > maxBytes) {
            discard(res.body);
            throw new AppError('net.too_large', undefined, { url: current.href, maxBytes });
          }
          chunks.push(chunk);
        }
        return {
          status: res.statusCode,
          headers: flatHeaders(res.headers),
          body: Buffer.concat(chunks, size),
          url: current.href,
          redirects: hop,
        };
      }
    } catch (err) {
      throw toAppError(err, current, req.signal, timer.signal.aborted);
    } finally {
      clearTimeout(handle);
    }
  }

  return { fetch: fetchOnce, close: () => agent.close() };
}

/** One request with a throw-away client: for rare callers. Frequent callers keep a client. */
export async function safeFetch(url: string, opts: SafeRequest & OutboundOptions = {}): Promise<SafeResponse> {
  const client = createOutboundClient(opts);
  try {
    return await client.fetch(url, opts);
  } finally {
    await client.close();
  }
}
