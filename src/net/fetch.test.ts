// RELIABILITY test 11: the SSRF corpus against canaries that count connections at the socket level.
// Every server here listens on loopback; the "outside" host is 127.0.0.2, allowed by an allow-list
// (Linux routes all of 127/8 to lo), so redirect handling can be tested without leaving the machine.
import { lookup } from 'node:dns/promises';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { createOutboundClient, safeFetch, type OutboundOptions, type Resolver } from './fetch.ts';

interface Server { port: number; connections: number; requests: string[]; close(): Promise<void> }

async function serve(host: string, handler: http.RequestListener): Promise<Server> {
  const server = http.createServer(handler);
  const state: Server = {
    port: 0, connections: 0, requests: [],
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
  server.on('connection', () => { state.connections++; });
  server.on('request', (req: http.IncomingMessage) => { state.requests.push(`${req.method} ${req.url}`); });
  server.listen(0, host);
  await once(server, 'listening');
  state.port = (server.address() as AddressInfo).port;
  return state;
}

// Tripwire: a bug in the guard must not turn into traffic to a real network. Undici calls net.connect /
// tls.connect through these module objects; anything but loopback or a test name throws before a packet.
const attempts: string[] = [];
const realNet = net.connect;
const realTls = tls.connect;
const safeHost = (host: unknown): boolean =>
  typeof host === 'string' && (/^127\./.test(host) || host === '::1' || host === 'localhost' || host.endsWith('.test'));
function trip(real: (...args: never[]) => unknown) {
  return (...args: unknown[]) => {
    const host = (args[0] as { host?: unknown } | null)?.host;
    attempts.push(String(host));
    if (!safeHost(host)) throw new Error(`tripwire: connect to ${String(host)}`);
    return (real as (...a: unknown[]) => unknown)(...args);
  };
}

let canary: Server;
let canary6: Server;
let outside: Server;
const hangs: http.ServerResponse[] = [];
const allowOutside: OutboundOptions = { allowPrivate: ['127.0.0.2/32'], timeoutMs: 3_000 };

beforeAll(async () => {
  net.connect = trip(realNet) as typeof net.connect;
  tls.connect = trip(realTls) as typeof tls.connect;
  canary = await serve('127.0.0.1', (_req, res) => res.end('canary'));
  canary6 = await serve('::1', (_req, res) => res.end('canary6'));
  outside = await serve('127.0.0.2', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const to = url.searchParams.get('to');
    if (url.pathname === '/redirect' && to) {
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: to }).end();
    } else if (url.pathname.startsWith('/loop/')) {
      const n = Number(url.pathname.slice(6));
      res.writeHead(302, { location: `/loop/${n + 1}` }).end();
    } else if (url.pathname === '/big') {
      res.writeHead(200, { 'content-length': '2000' }).end('x'.repeat(2000));
    } else if (url.pathname === '/big-chunked') {
      res.write('x'.repeat(800));
      res.end('x'.repeat(800));
    } else if (url.pathname === '/hang') {
      hangs.push(res);
    } else {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-method': req.method ?? '' }).end('hello');
    }
  });
});

afterAll(async () => {
  net.connect = realNet;
  tls.connect = realTls;
  for (const res of hangs) res.destroy();
  await Promise.all([canary.close(), canary6.close(), outside.close()]);
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  throw new Error('expected a rejection');
}

// Names resolved by a test resolver, never by DNS; localhost goes to the system resolver (/etc/hosts).
const names: Record<string, string[]> = {
  'loopback.test': ['127.0.0.1'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'mixed.test': ['127.0.0.2', '127.0.0.1'],
  'outside.test': ['127.0.0.2'],
};
const resolve: Resolver = (host) => {
  if (host === 'localhost') return lookup(host, { all: true });
  const found = names[host];
  return found ? Promise.resolve(found.map((address) => ({ address, family: net.isIP(address) }))) : Promise.reject(new Error(`unexpected lookup ${host}`));
};

describe('safeFetch refuses the SSRF corpus', () => {
  const corpus = (): string[] => {
    const p = canary.port;
    return [
      `http://127.0.0.1:${p}/`,
      `http://localhost:${p}/`,
      `http://2130706433:${p}/`,
      `http://0x7f.0.0.1:${p}/`,
      `http://0x7f000001:${p}/`,
      `http://0177.0.0.1:${p}/`,
      `http://127.1:${p}/`,
      `http://0.0.0.0:${p}/`,
      `http://[::ffff:127.0.0.1]:${p}/`,
      `http://[::ffff:7f00:1]:${p}/`,
      `http://[::127.0.0.1]:${p}/`,
      `http://[64:ff9b::127.0.0.1]:${p}/`,
      `http://[::]:${p}/`,
      `https://127.0.0.1:${p}/`,
      `http://[::1]:${canary6.port}/`,
      `http://loopback.test:${p}/`,
      `http://mapped.test:${p}/`,
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:169.254.169.254]/',
      'http://10.0.0.1/',
      'http://192.168.0.1/',
      'http://100.64.0.1/',
      'http://[fe80::1]/',
      'http://[fd00::1]/',
    ];
  };

  it('with the default policy: every URL refused, no connection reaches a canary', async () => {
    for (const url of corpus()) {
      expect(await codeOf(safeFetch(url, { resolve })), url).toBe('net.forbidden_address');
    }
    expect(canary.connections + canary6.connections).toBe(0);
  });

  it('with an allow-list for another host: still refused, including a host with one allowed and one forbidden address', async () => {
    const client = createOutboundClient({ ...allowOutside, resolve });
    try {
      for (const url of [...corpus(), `http://mixed.test:${canary.port}/`]) {
        expect(await codeOf(client.fetch(url)), url).toBe('net.forbidden_address');
      }
    } finally {
      await client.close();
    }
    expect(canary.connections + canary6.connections).toBe(0);
  });

  it('refuses redirects into loopback in every spelling', async () => {
    const p = canary.port;
    const targets = [
      `http://127.0.0.1:${p}/`, `http://2130706433:${p}/`, `http://[::ffff:127.0.0.1]:${p}/`,
      `http://localhost:${p}/`, `http://loopback.test:${p}/`, `http://[::1]:${canary6.port}/`, 'http://169.254.169.254/',
    ];
    for (const to of targets) {
      for (const status of [301, 302, 303, 307, 308]) {
        const url = `http://127.0.0.2:${outside.port}/redirect?status=${status}&to=${encodeURIComponent(to)}`;
        expect(await codeOf(safeFetch(url, { ...allowOutside, resolve })), `${status} → ${to}`).toBe('net.forbidden_address');
      }
    }
    expect(canary.connections + canary6.connections).toBe(0);
    expect(outside.requests.filter((r) => r.startsWith('GET /redirect')).length).toBe(targets.length * 5);
  });

  it('refuses schemes other than http(s), directly and by redirect', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://127.0.0.2/', 'gopher://127.0.0.2:70/', 'not a url', 'data:text/plain,hi']) {
      expect(await codeOf(safeFetch(url, allowOutside)), url).toBe('net.bad_url');
    }
    const url = `http://127.0.0.2:${outside.port}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`;
    expect(await codeOf(safeFetch(url, allowOutside))).toBe('net.bad_url');
  });

  it('never tried to connect outside loopback', () => {
    expect(attempts.filter((host) => !safeHost(host))).toEqual([]);
  });
});

describe('safeFetch on an allowed host', () => {
  const base = (): string => `http://127.0.0.2:${outside.port}`;

  it('fetches, by address and by name, and follows redirects within the limit', async () => {
    const res = await safeFetch(`${base()}/hello`, allowOutside);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello');
    expect(res.headers['content-type']).toBe('text/plain');

    const byName = await safeFetch(`http://outside.test:${outside.port}/hello`, { ...allowOutside, resolve });
    expect(byName.body.toString()).toBe('hello');

    const hop = await safeFetch(`${base()}/redirect?to=${encodeURIComponent(`http://outside.test:${outside.port}/done`)}`, { ...allowOutside, resolve });
    expect(hop.status).toBe(200);
    expect(hop.redirects).toBe(1);
    expect(hop.url).toBe(`http://outside.test:${outside.port}/done`);
  });

  it('turns a POST into a GET after 303 and keeps it after 307', async () => {
    const see = await safeFetch(`${base()}/redirect?status=303&to=/after`, { ...allowOutside, method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(see.headers['x-method']).toBe('GET');
    const keep = await safeFetch(`${base()}/redirect?status=307&to=/after`, { ...allowOutside, method: 'POST', body: '{}' });
    expect(keep.headers['x-method']).toBe('POST');
  });

  it("answers a 3xx as it is with redirect: 'manual'", async () => {
    const res = await safeFetch(`${base()}/redirect?to=${encodeURIComponent('http://127.0.0.1/')}`, { ...allowOutside, redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('http://127.0.0.1/');
  });

  it('gives up after maxRedirects hops', async () => {
    const before = outside.requests.filter((r) => r.startsWith('GET /loop/')).length;
    expect(await codeOf(safeFetch(`${base()}/loop/0`, { ...allowOutside, maxRedirects: 3 }))).toBe('net.too_many_redirects');
    expect(outside.requests.filter((r) => r.startsWith('GET /loop/')).length - before).toBe(4);
    expect(await codeOf(safeFetch(`${base()}/loop/0`, allowOutside))).toBe('net.too_many_redirects');
  });

  it('caps the body, declared or streamed', async () => {
    expect(await codeOf(safeFetch(`${base()}/big`, { ...allowOutside, maxBytes: 1000 }))).toBe('net.too_large');
    expect(await codeOf(safeFetch(`${base()}/big-chunked`, { ...allowOutside, maxBytes: 1000 }))).toBe('net.too_large');
    expect((await safeFetch(`${base()}/big`, { ...allowOutside, maxBytes: 2000 })).body.length).toBe(2000);
  });

  it('times out a silent server; a silent server, a closed port and an unknown name all read net.unreachable', async () => {
    const started = performance.now();
    const silent = await safeFetch(`${base()}/hang`, { ...allowOutside, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(15_000); // a hang fails; a loaded machine does not

    const closed = await serve('127.0.0.2', () => undefined);
    const port = closed.port;
    await closed.close();
    const refused = await safeFetch(`http://127.0.0.2:${port}/`, allowOutside).catch((e: unknown) => e);
    const unknown = await safeFetch('http://nowhere.invalid/', { ...allowOutside, resolve: () => Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })) }).catch((e: unknown) => e);
    // Coarse on purpose: the answer must not tell an open port from a closed one (the cause is kept for logs).
    const shown = (e: unknown) => ({ code: (e as AppError).code, message: (e as AppError).message, details: Object.keys((e as AppError).details) });
    expect(shown(silent)).toEqual(shown(refused));
    expect(shown(unknown)).toEqual(shown(refused));
    expect(shown(refused).code).toBe('net.unreachable');
    expect((refused as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('allowPrivate: true reaches loopback (for operators on a trusted network)', async () => {
    const res = await safeFetch(`http://127.0.0.2:${outside.port}/hello`, { allowPrivate: true });
    expect(res.body.toString()).toBe('hello');
  });
});
