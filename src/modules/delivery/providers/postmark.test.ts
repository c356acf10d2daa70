// Postmark adapter against a local server that speaks Postmark's documented POST /email API
// (not the real service).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostmarkProvider } from './postmark.ts';
import { fakeServer, json, sampleEmail, type FakeServer, type Recorded, type Reply } from './test-server.ts';
import { ProviderError } from './types.ts';

const TOKEN = 'server-token-1234';

/** Postmark's /email: token check, required fields, inactive recipients (ErrorCode 406). */
function postmarkApi(rec: Recorded): Reply {
  if (rec.method !== 'POST' || rec.path !== '/email') return { status: 404, body: '' };
  if (rec.headers['x-postmark-server-token'] !== TOKEN) {
    return { status: 401, body: { ErrorCode: 10, Message: 'The Server API token provided in the request headers is invalid.' } };
  }
  if (!String(rec.headers['content-type']).startsWith('application/json')) {
    return { status: 415, body: { ErrorCode: 409, Message: 'JSON required.' } };
  }
  const b = json(rec) as { From?: string; To?: string; HtmlBody?: string; TextBody?: string };
  if (!b.From || !b.To || !(b.HtmlBody || b.TextBody)) {
    return { status: 422, body: { ErrorCode: 300, Message: 'Invalid email request' } };
  }
  if (b.To.includes('inactive@')) {
    return { status: 422, body: { ErrorCode: 406, Message: 'You tried to send to recipient(s) that have been marked as inactive.' } };
  }
  return { status: 200, body: { To: b.To, SubmittedAt: new Date().toISOString(), MessageID: randomUUID(), ErrorCode: 0, Message: 'OK' } };
}

describe('postmark adapter', () => {
  let api: FakeServer;
  beforeAll(async () => { api = await fakeServer(postmarkApi); });
  afterAll(async () => { await api.close(); });

  const provider = (token = TOKEN) => createPostmarkProvider({ serverToken: token, baseUrl: api.baseUrl, messageStream: 'broadcast' });

  it('sends the message with headers, metadata and stream, and maps MessageID', async () => {
    const result = await provider().send(sampleEmail());
    expect(result.providerMessageId).toMatch(/^[0-9a-f-]{36}$/);
    const b = json(api.requests.at(-1)!);
    expect(b).toMatchObject({
      From: '"Acme \\"News\\", Inc" <news@send.example.com>',
      To: '"Ada Lovelace" <ada@example.org>',
      ReplyTo: 'support@example.com',
      Subject: 'Your weekly digest — ünïcode',
      HtmlBody: '<p>Hello <b>Ada</b></p>',
      TextBody: 'Hello Ada',
      Metadata: { tandem_message_id: 'msg_01J9ZK3V6Q' },
      MessageStream: 'broadcast',
    });
    expect(b.Headers).toEqual([
      { Name: 'List-Unsubscribe', Value: '<https://t.example.com/u/abc>, <mailto:unsub@example.com?subject=abc>' },
      { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
    ]);
  });

  it('reports a wrong server token as auth', async () => {
    const err = await provider('wrong').send(sampleEmail()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'auth', status: 401 });
  });

  it('gives up on an inactive recipient only (ErrorCode 406 is permanent)', async () => {
    const err = await provider().send(sampleEmail({ to: { address: 'inactive@example.org' } })).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'permanent', status: 422 });
    expect((err as Error).message).toContain('ErrorCode 406');
  });

  it.each([
    [429, 'rate_limited'], [100, 'retryable'], [405, 'auth'], [412, 'auth'], [300, 'permanent'],
  ] as const)('classifies a 422 with ErrorCode %i as %s', async (code, kind) => {
    api.override({ status: 422, body: { ErrorCode: code, Message: 'refused' } });
    await expect(provider().send(sampleEmail())).rejects.toMatchObject({ kind, status: 422 });
  });

  it('refuses an invalid header name before sending anything', async () => {
    const before = api.requests.length;
    await expect(provider().send(sampleEmail({ headers: { 'Bad Header:': 'x' } }))).rejects.toMatchObject({ kind: 'permanent' });
    expect(api.requests.length).toBe(before);
  });

  it('treats a 200 without MessageID as permanent, never as a success', async () => {
    api.override({ status: 200, body: { ErrorCode: 0, Message: 'OK' } });
    await expect(provider().send(sampleEmail())).rejects.toMatchObject({ kind: 'permanent', status: 200 });
  });
});
