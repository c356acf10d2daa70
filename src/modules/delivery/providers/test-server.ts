// Test support (imported by the *.test.ts files only): a local HTTP server whose handler plays a
// provider's API. Every request is recorded with its raw body so tests can check what was sent.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OutgoingEmail, OutgoingSms } from './types.ts';

export interface Recorded { method: string; path: string; headers: http.IncomingHttpHeaders; body: Buffer }

export interface Reply { status: number; headers?: Record<string, string>; body?: string | object }

export interface FakeServer {
  baseUrl: string;
  requests: Recorded[];
  /** Answers the next request with `reply` instead of the handler (after recording it). 'hang' never answers. */
  override(reply: Reply | 'hang'): void;
  close(): Promise<void>;
}

export async function fakeServer(handle: (req: Recorded) => Reply | Promise<Reply>): Promise<FakeServer> {
  const requests: Recorded[] = [];
  const overrides: (Reply | 'hang')[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(rec);
      const forced = overrides.shift();
      if (forced === 'hang') return;
      void Promise.resolve(forced ?? handle(rec)).then((reply) => {
        const body = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        const type = typeof reply.body === 'object' ? { 'content-type': 'application/json' } : {};
        res.writeHead(reply.status, { ...type, ...reply.headers }).end(body);
      }, (err: unknown) => {
        res.writeHead(500).end(String(err));
      });
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    override: (reply) => { overrides.push(reply); },
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

export function form(rec: Recorded): URLSearchParams {
  return new URLSearchParams(rec.body.toString('utf8'));
}

export function json(rec: Recorded): Record<string, unknown> {
  return JSON.parse(rec.body.toString('utf8')) as Record<string, unknown>;
}

/** The Basic credentials a request carried, or undefined. */
export function basic(rec: Recorded): { user: string; password: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(rec.headers.authorization ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

export function sampleEmail(overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    from: { address: 'news@send.example.com', name: 'Acme "News", Inc' },
    to: { address: 'ada@example.org', name: 'Ada Lovelace' },
    replyTo: 'support@example.com',
    subject: 'Your weekly digest — ünïcode',
    html: '<p>Hello <b>Ada</b></p>',
    text: 'Hello Ada',
    headers: {
      'List-Unsubscribe': '<https://t.example.com/u/abc>, <mailto:unsub@example.com?subject=abc>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
    messageId: 'msg_01J9ZK3V6Q',
    ...overrides,
  };
}

export function sampleSms(overrides: Partial<OutgoingSms> = {}): OutgoingSms {
  return { from: '+15005550006', to: '+14155550123', body: 'Your code is 123456', messageId: 'msg_sms_1', ...overrides };
}
