import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InboundError, parseMailgun, tandemMessageIdHeader } from './index.ts';

const KEY = 'key-0123456789abcdef0123456789abcdef';
const NOW = new Date('2025-01-14T10:30:00Z');
const opts = { now: () => NOW };
const nowSec = Math.floor(NOW.getTime() / 1000);

function signed(eventData: object, { timestamp = String(nowSec - 10), token = 'e0b5477167110d68991efc6b9f89f0a11066af27834600e123', key = KEY } = {}) {
  const signature = createHmac('sha256', key).update(timestamp + token).digest('hex');
  return { headers: { 'content-type': 'application/json' }, rawBody: Buffer.from(JSON.stringify({ signature: { timestamp, token, signature }, 'event-data': eventData })) };
}
const rejectCode = async (p: Promise<unknown>, code: string) => {
  const err: unknown = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(InboundError);
  expect((err as InboundError).code).toBe(code);
};

// Shaped like the "failed" example in Mailgun's webhook payload documentation.
const failed = (over: Record<string, unknown> = {}) => ({
  id: 'G9Bn5sl1TC6nu79C8C0bwg', timestamp: 1736850067.908181, 'log-level': 'error', event: 'failed', severity: 'permanent', reason: 'bounce',
  recipient: 'Alice@Example.com', 'recipient-domain': 'example.com',
  'delivery-status': { code: 550, message: '5.1.1 The email account that you tried to reach does not exist.', description: '', 'attempt-no': 1 },
  message: { headers: { to: 'Alice <alice@example.com>', 'message-id': '20250114102104.1.C0DE@mg.acme.example', from: 'Acme <hello@mg.acme.example>', subject: 'Welcome' } },
  'user-variables': { tandem_message_id: 'msg_mg1' },
  ...over,
});

describe('Mailgun', () => {
  it('verifies the HMAC and maps a permanent failure to a hard bounce', async () => {
    expect(await parseMailgun(signed(failed()), { signingKey: KEY }, opts)).toEqual([{
      provider: 'mailgun', kind: 'hard_bounce', email: 'alice@example.com', providerMessageId: '20250114102104.1.C0DE@mg.acme.example',
      messageId: 'msg_mg1', at: new Date(1736850067908), reason: 'permanent: bounce: 550: 5.1.1 The email account that you tried to reach does not exist.',
      eventId: 'mailgun:G9Bn5sl1TC6nu79C8C0bwg:1736850067908',
    }]);
  });

  it('maps temporary failures, complaints, deliveries, opens, clicks and unsubscribes', async () => {
    const kind = async (over: Record<string, unknown>) => (await parseMailgun(signed(failed(over)), { signingKey: KEY }, opts)).map((e) => e.kind);
    expect(await kind({ severity: 'temporary' })).toEqual(['soft_bounce']);
    expect(await kind({ event: 'complained', severity: undefined })).toEqual(['complaint']);
    expect(await kind({ event: 'delivered' })).toEqual(['delivered']);
    expect(await kind({ event: 'opened' })).toEqual(['opened']);
    expect(await kind({ event: 'clicked', url: 'https://acme.example/a' })).toEqual(['clicked']);
    expect(await kind({ event: 'unsubscribed' })).toEqual(['unsubscribe']);
    expect(await kind({ event: 'accepted' })).toEqual([]);
  });

  it('falls back to our Message-ID when user-variables were not sent', async () => {
    const data = failed({ 'user-variables': {}, message: { headers: { 'message-id': tandemMessageIdHeader('msg_hdr', 'mg.acme.example').slice(1, -1) } } });
    expect((await parseMailgun(signed(data), { signingKey: KEY }, opts))[0]!.messageId).toBe('msg_hdr');
  });

  it('accepts a subaccount event signed with the primary key (parent-signature)', async () => {
    const timestamp = String(nowSec);
    const token = 'tok-parent-0000000000000000000000000000000000000000';
    const body = {
      signature: { timestamp, token, signature: 'ab'.repeat(32), 'parent-signature': createHmac('sha256', KEY).update(timestamp + token).digest('hex') },
      'event-data': failed(),
    };
    expect(await parseMailgun({ headers: {}, rawBody: Buffer.from(JSON.stringify(body)) }, { signingKey: KEY }, opts)).toHaveLength(1);
  });

  it('refuses another key, a changed token, a missing signature, and old signatures', async () => {
    await rejectCode(parseMailgun(signed(failed(), { key: 'key-other' }), { signingKey: KEY }, opts), 'signature');
    const good = JSON.parse(signed(failed()).rawBody.toString()) as { signature: { token: string } };
    good.signature.token = `${good.signature.token}x`;
    await rejectCode(parseMailgun({ headers: {}, rawBody: Buffer.from(JSON.stringify(good)) }, { signingKey: KEY }, opts), 'signature');
    await rejectCode(parseMailgun({ headers: {}, rawBody: Buffer.from(JSON.stringify({ 'event-data': failed() })) }, { signingKey: KEY }, opts), 'signature');
    await rejectCode(parseMailgun(signed(failed()), { signingKey: '' }, opts), 'signature');
    await rejectCode(parseMailgun(signed(failed(), { timestamp: String(nowSec - 301) }), { signingKey: KEY }, opts), 'stale');
  });

  it('refuses signed payloads without usable event data', async () => {
    await rejectCode(parseMailgun(signed('x' as unknown as object), { signingKey: KEY }, opts), 'payload');
    await rejectCode(parseMailgun(signed(failed({ recipient: undefined })), { signingKey: KEY }, opts), 'payload');
    await rejectCode(parseMailgun(signed(failed({ timestamp: 'soon' })), { signingKey: KEY }, opts), 'payload');
    await rejectCode(parseMailgun({ headers: {}, rawBody: Buffer.from('signature=abc') }, { signingKey: KEY }, opts), 'payload');
  });
});
