// Resend adapter against a local server that speaks the documented POST /emails API, idempotency
// keys included (not the real service).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResendProvider } from './resend.ts';
import { fakeServer, json, sampleEmail, type FakeServer, type Recorded, type Reply } from './test-server.ts';

const KEY = 're_test_123456';

function resendError(statusCode: number, name: string, message: string): Reply {
  return { status: statusCode, body: { statusCode, name, message } };
}

describe('resend adapter', () => {
  let api: FakeServer;
  const sent = new Map<string, { body: string; id: string }>();

  function resendApi(rec: Recorded): Reply {
    if (!rec.headers.authorization) return resendError(401, 'missing_api_key', 'Missing API key in the authorization header.');
    if (rec.headers.authorization !== `Bearer ${KEY}`) return resendError(403, 'invalid_api_key', 'API key is invalid');
    if (rec.method !== 'POST' || rec.path !== '/emails') return resendError(404, 'not_found', 'The requested endpoint does not exist.');
    const b = json(rec) as { from?: string; to?: string[]; subject?: string };
    if (!b.from || !b.to?.length || !b.subject) return resendError(422, 'missing_required_field', 'Missing `to` field.');
    if (b.to.some((t) => !/@[^>]+\.[a-z]+>?$/.test(t))) {
      return resendError(422, 'validation_error', 'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.');
    }
    const key = rec.headers['idempotency-key'];
    const body = rec.body.toString();
    if (typeof key === 'string') {
      const earlier = sent.get(key);
      if (earlier && earlier.body !== body) return resendError(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.');
      if (earlier) return { status: 200, body: { id: earlier.id } };
    }
    const id = randomUUID();
    if (typeof key === 'string') sent.set(key, { body, id });
    return { status: 200, body: { id } };
  }

  beforeAll(async () => { api = await fakeServer(resendApi); });
  afterAll(async () => { await api.close(); });

  const provider = (key = KEY) => createResendProvider({ apiKey: key, baseUrl: api.baseUrl });

  it('sends the message with headers and a tag, and maps id', async () => {
    const result = await provider().send(sampleEmail());
    expect(result.providerMessageId).toMatch(/^[0-9a-f-]{36}$/);
    const rec = api.requests.at(-1)!;
    expect(rec.headers['idempotency-key']).toBe('msg_01J9ZK3V6Q');
    expect(json(rec)).toEqual({
      from: '"Acme \\"News\\", Inc" <news@send.example.com>',
      to: ['"Ada Lovelace" <ada@example.org>'],
      subject: 'Your weekly digest — ünïcode',
      html: '<p>Hello <b>Ada</b></p>',
      text: 'Hello Ada',
      reply_to: 'support@example.com',
      headers: {
        'List-Unsubscribe': '<https://t.example.com/u/abc>, <mailto:unsub@example.com?subject=abc>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      tags: [{ name: 'tandem_message_id', value: 'msg_01J9ZK3V6Q' }],
    });
  });

  it('gets the first send back when the same message is sent again (idempotency key)', async () => {
    const m = sampleEmail({ messageId: 'msg_retry_1' });
    const first = await provider().send(m);
    const again = await provider().send(m);
    expect(again.providerMessageId).toBe(first.providerMessageId);
  });

  it('reports a wrong key as auth', async () => {
    await expect(provider('re_wrong').send(sampleEmail())).rejects.toMatchObject({ kind: 'auth', status: 403 });
  });

  it('gives up on an invalid recipient only', async () => {
    const err = await provider().send(sampleEmail({ to: { address: 'nobody' }, messageId: 'msg_bad_to' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'permanent', status: 422 });
    expect((err as Error).message).toContain('validation_error');
  });

  it.each([
    [409, 'concurrent_idempotent_requests', 'retryable'],
    [409, 'invalid_idempotent_request', 'permanent'],
    [429, 'daily_quota_exceeded', 'rate_limited'],
  ] as const)('classifies %i %s as %s', async (status, name, kind) => {
    api.override(resendError(status, name, 'no'));
    await expect(provider().send(sampleEmail())).rejects.toMatchObject({ kind, status });
  });
});
