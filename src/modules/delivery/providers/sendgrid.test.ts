// SendGrid adapter against a local server that speaks the documented v3 Mail Send API (not the real service).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSendGridProvider } from './sendgrid.ts';
import { fakeServer, json, sampleEmail, type FakeServer, type Recorded, type Reply } from './test-server.ts';

const KEY = 'SG.test-key.abcdef';

function sgError(status: number, message: string, field: string | null = null): Reply {
  return { status, body: { errors: [{ message, field, help: null }] } };
}

function sendgridApi(rec: Recorded): Reply {
  if (rec.headers.authorization !== `Bearer ${KEY}`) return sgError(401, 'The provided authorization grant is invalid, expired, or revoked');
  if (rec.method !== 'POST' || rec.path !== '/v3/mail/send') return { status: 404, body: '' };
  const b = json(rec) as { personalizations?: { to?: { email: string }[] }[]; from?: { email?: string }; content?: { type: string }[] };
  const to = b.personalizations?.[0]?.to ?? [];
  if (!to.length) return sgError(400, 'The to array is required for all personalization objects, and must have at least one email object with a valid email address.', 'personalizations.0.to');
  if (!b.from?.email) return sgError(400, 'The from object must be provided for every email send.', 'from');
  if (b.content?.[0]?.type !== 'text/plain') return sgError(400, 'If present, text/plain content must be first, followed by text/html.', 'content');
  if (to.some((t) => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(t.email))) {
    return sgError(400, 'Does not contain a valid address.', 'personalizations.0.to.0.email');
  }
  return { status: 202, headers: { 'x-message-id': randomBytes(11).toString('base64url') } };
}

describe('sendgrid adapter', () => {
  let api: FakeServer;
  beforeAll(async () => { api = await fakeServer(sendgridApi); });
  afterAll(async () => { await api.close(); });

  const provider = (key = KEY) => createSendGridProvider({ apiKey: key, baseUrl: api.baseUrl });

  it('sends personalizations, content, headers and custom_args; the id is X-Message-Id', async () => {
    const result = await provider().send(sampleEmail({ headers: { ...sampleEmail().headers, 'Reply-To': 'ignored@example.com' } }));
    expect(result.providerMessageId).toMatch(/^[A-Za-z0-9_-]{15}$/);
    expect(json(api.requests.at(-1)!)).toEqual({
      personalizations: [{ to: [{ email: 'ada@example.org', name: 'Ada Lovelace' }] }],
      from: { email: 'news@send.example.com', name: 'Acme "News", Inc' },
      reply_to: { email: 'support@example.com' },
      subject: 'Your weekly digest — ünïcode',
      content: [{ type: 'text/plain', value: 'Hello Ada' }, { type: 'text/html', value: '<p>Hello <b>Ada</b></p>' }],
      // Reserved headers (Reply-To here) are left out: SendGrid refuses the whole send otherwise.
      headers: {
        'List-Unsubscribe': '<https://t.example.com/u/abc>, <mailto:unsub@example.com?subject=abc>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      custom_args: { tandem_message_id: 'msg_01J9ZK3V6Q' },
    });
  });

  it('reports a revoked key as auth', async () => {
    await expect(provider('SG.revoked').send(sampleEmail())).rejects.toMatchObject({ kind: 'auth', status: 401 });
  });

  it('gives up on an invalid recipient only', async () => {
    const err = await provider().send(sampleEmail({ to: { address: 'not an address' } })).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'permanent', status: 400 });
    expect((err as Error).message).toContain('personalizations.0.to.0.email: Does not contain a valid address.');
  });

  it('reads the delay of a rate limit from X-RateLimit-Reset when there is no Retry-After', async () => {
    const reset = Math.floor(Date.now() / 1000) + 30;
    api.override({ ...sgError(429, 'too many requests'), headers: { 'x-ratelimit-reset': String(reset) } });
    const err = await provider().send(sampleEmail()).catch((e: unknown) => e) as { kind: string; retryAfterMs: number };
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBeGreaterThan(28_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('treats a 202 without X-Message-Id as permanent, never as a success', async () => {
    api.override({ status: 202 });
    await expect(provider().send(sampleEmail())).rejects.toMatchObject({ kind: 'permanent', status: 202 });
  });
});
