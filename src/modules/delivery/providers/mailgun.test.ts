// Mailgun adapter against a local server that speaks the documented POST /v3/{domain}/messages API
// (not the real service).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailgunProvider, MAILGUN_BASE_URLS } from './mailgun.ts';
import { basic, fakeServer, form, sampleEmail, type FakeServer, type Recorded, type Reply } from './test-server.ts';

const KEY = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0';
const DOMAIN = 'mg.example.com';

function mailgunApi(rec: Recorded): Reply {
  const creds = basic(rec);
  if (!creds || creds.user !== 'api' || creds.password !== KEY) return { status: 401, body: 'Forbidden' };
  if (rec.method !== 'POST') return { status: 405, body: { message: 'Method not allowed' } };
  const m = /^\/v3\/([^/]+)\/messages$/.exec(rec.path);
  if (!m) return { status: 404, body: { message: 'Not found' } };
  if (decodeURIComponent(m[1]!) !== DOMAIN) return { status: 404, body: { message: `Domain not found: ${m[1]}` } };
  const f = form(rec);
  if (!f.get('from')) return { status: 400, body: { message: "'from' parameter is missing" } };
  if (!f.get('text') && !f.get('html')) return { status: 400, body: { message: "Need at least one of 'text', 'html' or 'template' parameters specified" } };
  if (!/<[^@\s>]+@[^@\s>]+>$|^[^@\s]+@[^@\s]+$/.test(f.get('to') ?? '')) {
    return { status: 400, body: { message: "to parameter is not a valid address. please check documentation" } };
  }
  return { status: 200, body: { id: `<20260101120000.1.ABCDEF@${DOMAIN}>`, message: 'Queued. Thank you.' } };
}

describe('mailgun adapter', () => {
  let api: FakeServer;
  beforeAll(async () => { api = await fakeServer(mailgunApi); });
  afterAll(async () => { await api.close(); });

  const provider = (key = KEY, domain = DOMAIN) => createMailgunProvider({ apiKey: key, domain, baseUrl: api.baseUrl });

  it('posts the fields, h: headers and v:tandem_message_id form-encoded, and maps id', async () => {
    const result = await provider().send(sampleEmail());
    expect(result.providerMessageId).toBe(`<20260101120000.1.ABCDEF@${DOMAIN}>`);
    expect([...form(api.requests.at(-1)!)]).toEqual([
      ['from', '"Acme \\"News\\", Inc" <news@send.example.com>'],
      ['to', '"Ada Lovelace" <ada@example.org>'],
      ['subject', 'Your weekly digest — ünïcode'],
      ['text', 'Hello Ada'],
      ['html', '<p>Hello <b>Ada</b></p>'],
      ['h:Reply-To', 'support@example.com'],
      ['h:List-Unsubscribe', '<https://t.example.com/u/abc>, <mailto:unsub@example.com?subject=abc>'],
      ['h:List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'],
      ['v:tandem_message_id', 'msg_01J9ZK3V6Q'],
    ]);
  });

  it('uses the EU endpoint when the domain lives in the EU region', () => {
    expect(MAILGUN_BASE_URLS.eu).toBe('https://api.eu.mailgun.net');
    let seen = '';
    const p = createMailgunProvider({
      apiKey: KEY, domain: DOMAIN, region: 'eu',
      fetch: (url) => { seen = url instanceof Request ? url.url : url.toString(); return Promise.resolve(new Response('{"id":"<x@y>"}', { status: 200 })); },
    });
    return p.send(sampleEmail()).then((r) => {
      expect(r.providerMessageId).toBe('<x@y>');
      expect(seen).toBe('https://api.eu.mailgun.net/v3/mg.example.com/messages');
    });
  });

  it('reports a wrong key as auth, and an unknown domain as auth (every message would fail)', async () => {
    await expect(provider('key-wrong').send(sampleEmail())).rejects.toMatchObject({ kind: 'auth', status: 401 });
    await expect(provider(KEY, 'other.example.com').send(sampleEmail())).rejects.toMatchObject({ kind: 'auth', status: 404 });
  });

  it('gives up on an invalid recipient only', async () => {
    const err = await provider().send(sampleEmail({ to: { address: 'nobody' } })).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'permanent', status: 400 });
    expect((err as Error).message).toContain('not a valid address');
  });
});
