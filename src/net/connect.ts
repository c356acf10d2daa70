// The address guard for connections that are not HTTP (SMTP today), and for host names when a
// connector is saved. A host is resolved here, every address it has is vetted, and the socket connects
// to exactly a vetted address, so DNS cannot answer differently between the check and the connect.
// Failures say as little as possible: a refused, closed, filtered or unresolvable destination all
// become the same `net.unreachable` (the original error is kept as `cause`, for the logs).
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import net from 'node:net';
import { AppError } from '../errors.ts';
import { isAddressAllowed, parseAllowList, type PrivatePolicy } from './guard.ts';

/** Resolves a host name to every address it has (tests inject one; the default is the system resolver). */
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** The one setting (config.outboundAllowPrivate, TANDEM_OUTBOUND_ALLOW_PRIVATE) as the policy the guard applies. */
export function outboundPolicy(allow: boolean | readonly string[]): PrivatePolicy {
  return typeof allow === 'boolean' ? allow : parseAllowList(allow);
}

function bare(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function forbiddenHost(host: string): AppError {
  return new AppError('net.forbidden_address', undefined, { host });
}

export function unreachable(host: string, cause?: unknown): AppError {
  const err = new AppError('net.unreachable', undefined, { host });
  if (cause !== undefined) Object.defineProperty(err, 'cause', { value: cause, enumerable: false });
  return err;
}

/**
 * Every address of the host, each one allowed by the policy. One forbidden record refuses the host:
 * mixing public and private answers is how rebinding starts.
 */
export async function resolveAllowed(host: string, policy: PrivatePolicy, resolve: Resolver = systemResolver): Promise<LookupAddress[]> {
  const name = bare(host);
  const literal = net.isIP(name);
  if (literal) {
    if (!isAddressAllowed(name, policy)) throw forbiddenHost(host);
    return [{ address: name, family: literal }];
  }
  let found: readonly LookupAddress[];
  try {
    found = await resolve(name);
  } catch (err) {
    throw unreachable(host, err);
  }
  if (found.length === 0) throw unreachable(host);
  if (found.some((a) => !isAddressAllowed(a.address, policy))) throw forbiddenHost(host);
  return [...found];
}

/**
 * The check made when a connector is saved: a literal forbidden address, or a name that resolves to
 * one (localhost, a rebinding name), is refused with the field. A name that does not resolve now is
 * accepted: it is resolved and checked again at every connection.
 */
export async function checkHostOnSave(host: string, policy: PrivatePolicy, field: string, resolve: Resolver = systemResolver, timeoutMs = 3_000): Promise<void> {
  if (policy === true) return;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); });
  try {
    await Promise.race([resolveAllowed(host, policy, resolve), deadline]);
  } catch (err) {
    if (err instanceof AppError && err.code === 'net.forbidden_address') throw new AppError(err.code, err.message, { host, field });
  } finally {
    clearTimeout(timer);
  }
}

export interface GuardedConnectOptions {
  host: string;
  port: number;
  policy: PrivatePolicy;
  resolve?: Resolver;
  /** Resolving and connecting together. Default 10 s. */
  timeoutMs?: number;
}

/** A TCP socket connected to a vetted address of the host (tries each address in turn). */
export async function connectGuarded(opts: GuardedConnectOptions): Promise<net.Socket> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const addresses = await resolveAllowed(opts.host, opts.policy, opts.resolve);
  let last: unknown;
  for (const a of addresses) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect({ host: a.address, port: opts.port, family: a.family });
        const fail = (err: Error) => {
          socket.destroy();
          reject(err);
        };
        socket.setTimeout(left, () => fail(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
        socket.once('error', fail);
        socket.once('connect', () => {
          socket.setTimeout(0);
          socket.removeListener('error', fail);
          resolve(socket);
        });
      });
    } catch (err) {
      last = err;
    }
  }
  throw unreachable(opts.host, last ?? new Error('connect timeout'));
}
