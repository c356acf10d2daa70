import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InboundError, parseSendGrid } from './index.ts';

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
// As SendGrid shows the verification key: base64 of the DER SubjectPublicKeyInfo.
const secrets = { publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') };
const NOW = new Date('2025-01-14T10:30:00Z');
const opts = { now: () => NOW };
const ts = String(Math.floor(NOW.getTime() / 1000) - 20);

function req(body: string, timestamp = ts, key = privateKey) {
  const signature = sign('sha256', Buffer.from(timestamp + body), key).toString('base64');
  return { headers: { 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp }, rawBody: Buffer.from(body) };
}
const rejectCode = async (p: Promise<unknown>, code: string) => {
  const err: unknown = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(InboundError);
  expect((err as InboundError).code).toBe(code);
};

const base = { timestamp: 1736850000, 'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>', sg_message_id: 'W86EgYT6SQKk0lRflfLRsA.filterdrecv-5645d9c87f-78xgx-1-5D5F5F5A-2.0', tandem_message_id: 'msg_sg1' };
const batch = JSON.stringify([
  { ...base, email: 'Bounced@Example.com', event: 'bounce', type: 'bounce', bounce_classification: 'Invalid Address', reason: '550 5.1.1 The email account does not exist', status: '5.1.1', sg_event_id: 'ZHJvcC0xMjM0' },
  { ...base, email: 'blocked@example.com', event: 'bounce', type: 'blocked', bounce_classification: 'Reputation', reason: '550 blocked by policy', status: '5.7.1', sg_event_id: 'ev-2' },
  { ...base, email: 'dropped@example.com', event: 'dropped', reason: 'Bounced Address', status: '5.0.0', sg_event_id: 'ev-3' },
  { ...base, email: 'spam@example.com', event: 'spamreport', sg_event_id: 'ev-4' },
  { ...base, email: 'ok@example.com', event: 'delivered', response: '250 OK', sg_event_id: 'ev-5' },
  { ...base, email: 'ok@example.com', event: 'processed', sg_event_id: 'ev-6' },
  { ...base, email: 'ok@example.com', event: 'deferred', sg_event_id: 'ev-7' },
  { ...base, email: 'ok@example.com', event: 'click', url: 'https://acme.example/x', sg_event_id: 'ev-8', tandem_message_id: undefined, custom_args: { tandem_message_id: 'msg_nested' } },
]);

describe('SendGrid Event Webhook', () => {
  it('verifies the ECDSA signature and maps a batch of events', async () => {
    const events = await parseSendGrid(req(batch), secrets, opts);
    expect(events.map((e) => [e.kind, e.email, e.eventId])).toEqual([
      ['hard_bounce', 'bounced@example.com', 'sendgrid:ZHJvcC0xMjM0'],
      ['soft_bounce', 'blocked@example.com', 'sendgrid:ev-2'],
      ['hard_bounce', 'dropped@example.com', 'sendgrid:ev-3'],
      ['complaint', 'spam@example.com', 'sendgrid:ev-4'],
      ['delivered', 'ok@example.com', 'sendgrid:ev-5'],
      ['clicked', 'ok@example.com', 'sendgrid:ev-8'],
    ]);
    expect(events[0]).toEqual({
      provider: 'sendgrid', kind: 'hard_bounce', email: 'bounced@example.com', providerMessageId: 'W86EgYT6SQKk0lRflfLRsA', messageId: 'msg_sg1',
      at: new Date(1736850000 * 1000), reason: 'bounce: Invalid Address: 5.1.1 550 5.1.1 The email account does not exist', eventId: 'sendgrid:ZHJvcC0xMjM0',
    });
    expect(events[5]!.messageId).toBe('msg_nested');
  });

  it('reads why a message was dropped', async () => {
    const dropped = (reason: string) => JSON.stringify([{ ...base, email: 'a@example.com', event: 'dropped', reason, sg_event_id: reason }]);
    const kind = async (reason: string) => (await parseSendGrid(req(dropped(reason)), secrets, opts))[0]!.kind;
    expect(await kind('Spam Reporting Address')).toBe('complaint');
    expect(await kind('Unsubscribed Address')).toBe('unsubscribe');
    expect(await kind('Invalid')).toBe('hard_bounce');
    expect(await kind('Spam Content (if spam checker app enabled)')).toBe('soft_bounce');
  });

  it('accepts the key as PEM too', async () => {
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(await parseSendGrid(req(batch), { publicKey: pem }, opts)).toHaveLength(6);
  });

  it('refuses a changed body, another key, missing headers or a bad configured key', async () => {
    const good = req(batch);
    await rejectCode(parseSendGrid({ ...good, rawBody: Buffer.from(batch.replace('bounce', 'bounce ')) }, secrets, opts), 'signature');
    await rejectCode(parseSendGrid(req(batch, ts, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey), secrets, opts), 'signature');
    await rejectCode(parseSendGrid({ headers: {}, rawBody: good.rawBody }, secrets, opts), 'signature');
    await rejectCode(parseSendGrid({ ...good, headers: { ...good.headers, 'x-twilio-email-event-webhook-timestamp': String(Number(ts) + 1) } }, secrets, opts), 'signature');
    await rejectCode(parseSendGrid(good, { publicKey: 'bm90IGEga2V5' }, opts), 'signature');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    await rejectCode(parseSendGrid(good, { publicKey: rsa }, opts), 'signature');
  });

  it('refuses a signature made more than five minutes ago (or ahead)', async () => {
    await rejectCode(parseSendGrid(req(batch, String(Math.floor(NOW.getTime() / 1000) - 301)), secrets, opts), 'stale');
    await rejectCode(parseSendGrid(req(batch, String(Math.floor(NOW.getTime() / 1000) + 301)), secrets, opts), 'stale');
    expect(await parseSendGrid(req(batch, String(Math.floor(NOW.getTime() / 1000) - 299)), secrets, opts)).toHaveLength(6);
  });

  it('refuses signed bodies that are not event batches', async () => {
    await rejectCode(parseSendGrid(req('{"event":"bounce"}'), secrets, opts), 'payload');
    await rejectCode(parseSendGrid(req('[1]'), secrets, opts), 'payload');
    await rejectCode(parseSendGrid(req('[{"event":"bounce","email":"x@example.com"}]'), secrets, opts), 'payload');
    await rejectCode(parseSendGrid(req('nope'), secrets, opts), 'payload');
    // One unreadable event does not hold back the rest of its batch.
    const mixed = JSON.stringify([{ event: 'bounce', email: 'x@example.com' }, 7, (JSON.parse(batch) as unknown[])[0]]);
    expect((await parseSendGrid(req(mixed), secrets, opts)).map((e) => e.email)).toEqual(['bounced@example.com']);
  });
});
