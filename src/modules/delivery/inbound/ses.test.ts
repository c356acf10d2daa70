import { sign } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { selfSignedCert } from './fixtures/x509.ts';
import { InboundError, parseSes, tandemMessageIdHeader } from './index.ts';

const NOW = new Date('2025-01-14T10:21:30.000Z');
const CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:tandem-ses';
const cert = selfSignedCert('sns.amazonaws.com', new Date('2024-01-01'), new Date('2030-01-01'));
const otherCert = selfSignedCert('sns.amazonaws.com', new Date('2024-01-01'), new Date('2030-01-01'));

// The SNS signing recipe, written out here independently of the code under test.
function snsSign(msg: Record<string, string | undefined>, version: '1' | '2', key = cert.privateKey): Record<string, string> {
  const fields = msg.Type === 'Notification'
    ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
    : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const canonical = fields.filter((f) => msg[f] !== undefined).map((f) => `${f}\n${msg[f]}\n`).join('');
  const signature = sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(canonical), key).toString('base64');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(msg)) if (v !== undefined) out[k] = v;
  return { ...out, SignatureVersion: version, Signature: signature, SigningCertURL: CERT_URL, UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe' };
}

function notification(ses: object, extra: Partial<Record<string, string>> = {}) {
  return {
    Type: 'Notification', MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324', TopicArn: TOPIC,
    Message: JSON.stringify(ses), Timestamp: '2025-01-14T10:21:10.000Z', ...extra,
  };
}

const mail = {
  timestamp: '2025-01-14T10:21:04.000Z', source: 'hello@acme.example', messageId: '0100018d-ses-id',
  destination: ['Nobody@Example.org', 'second@example.org'],
  headers: [{ name: 'X-Tandem-Message-Id', value: 'msg_0a1b2c' }, { name: 'Message-ID', value: tandemMessageIdHeader('msg_other', 'send.acme.example') }],
};
const bounce = (bounceType: string, bounceSubType = 'General') => ({
  notificationType: 'Bounce', mail,
  bounce: {
    bounceType, bounceSubType, timestamp: '2025-01-14T10:21:07.000Z', feedbackId: '0100018d-feedback',
    bouncedRecipients: [
      { emailAddress: 'Nobody@Example.org', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' },
      { emailAddress: 'second@example.org' },
    ],
  },
});

const fetchCert = vi.fn((_url: string) => Promise.resolve(cert.pem));
const opts = { now: () => NOW, fetchCert };
const req = (body: object) => ({ headers: { 'x-amz-sns-message-type': 'Notification' }, rawBody: Buffer.from(JSON.stringify(body)) });
const rejectCode = async (p: Promise<unknown>, code: string) => {
  const err: unknown = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(InboundError);
  expect((err as InboundError).code).toBe(code);
};

describe('SES via SNS', () => {
  it('maps a permanent bounce to one hard bounce per bounced recipient (SignatureVersion 1)', async () => {
    const { events, subscribeUrl } = await parseSes(req(snsSign(notification(bounce('Permanent')), '1')), {}, opts);
    expect(subscribeUrl).toBeUndefined();
    expect(events).toEqual([
      {
        provider: 'ses', kind: 'hard_bounce', email: 'nobody@example.org', providerMessageId: '0100018d-ses-id', messageId: 'msg_0a1b2c',
        at: new Date('2025-01-14T10:21:07.000Z'), reason: 'Permanent/General: smtp; 550 5.1.1 user unknown',
        eventId: 'ses:0100018d-feedback:hard_bounce:nobody@example.org',
      },
      expect.objectContaining({ kind: 'hard_bounce', email: 'second@example.org', reason: 'Permanent/General', eventId: 'ses:0100018d-feedback:hard_bounce:second@example.org' }),
    ]);
  });

  it('maps transient and undetermined bounces to soft bounces (SignatureVersion 2)', async () => {
    for (const type of ['Transient', 'Undetermined']) {
      const { events } = await parseSes(req(snsSign(notification(bounce(type, 'MailboxFull')), '2')), { topicArn: [TOPIC] }, opts);
      expect(events.map((e) => e.kind)).toEqual(['soft_bounce', 'soft_bounce']);
      expect(events[0]!.reason).toContain(`${type}/MailboxFull`);
    }
  });

  it('maps complaints, deliveries and published open/click events; takes our id from a tag or our Message-ID', async () => {
    const complaint = { notificationType: 'Complaint', mail: { ...mail, headers: [] }, complaint: { complainedRecipients: [{ emailAddress: 'nobody@example.org' }], timestamp: '2025-01-14T10:30:00.000Z', feedbackId: 'fb-2', complaintFeedbackType: 'abuse' } };
    const { events: c } = await parseSes(req(snsSign(notification(complaint), '2')), {}, opts);
    expect(c).toEqual([expect.objectContaining({ kind: 'complaint', email: 'nobody@example.org', reason: 'abuse', eventId: 'ses:fb-2:complaint:nobody@example.org' })]);
    expect(c[0]!.messageId).toBeUndefined();

    const delivery = { notificationType: 'Delivery', mail: { ...mail, headers: [{ name: 'Message-ID', value: tandemMessageIdHeader('msg_77', 'send.acme.example') }] }, delivery: { timestamp: '2025-01-14T10:21:05.000Z', recipients: ['nobody@example.org'], smtpResponse: '250 ok' } };
    const { events: d } = await parseSes(req(snsSign(notification(delivery), '2')), {}, opts);
    expect(d).toEqual([expect.objectContaining({ kind: 'delivered', messageId: 'msg_77', reason: '250 ok', eventId: 'ses:22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324:delivered:nobody@example.org' })]);

    const open = { eventType: 'Open', mail: { ...mail, headers: undefined, destination: ['a@example.org'], tags: { tandem_message_id: ['msg_tag'] } }, open: { timestamp: '2025-01-14T11:00:00.000Z' } };
    const { events: o } = await parseSes(req(snsSign(notification(open), '2')), {}, opts);
    expect(o).toEqual([expect.objectContaining({ kind: 'opened', email: 'a@example.org', messageId: 'msg_tag', at: new Date('2025-01-14T11:00:00.000Z') })]);

    const send = { eventType: 'Send', mail, send: {} };
    expect((await parseSes(req(snsSign(notification(send), '2')), {}, opts)).events).toEqual([]);
  });

  it('covers Subject in the signature when the message has one', async () => {
    const signed = snsSign(notification(bounce('Permanent'), { Subject: 'Amazon SES Email Event Notification' }), '2');
    expect((await parseSes(req(signed), {}, opts)).events).toHaveLength(2);
    await rejectCode(parseSes(req({ ...signed, Subject: 'changed' }), {}, opts), 'signature');
  });

  it('returns the SubscribeURL of a subscription confirmation, and refuses one whose URL was changed', async () => {
    const confirmation = {
      Type: 'SubscriptionConfirmation', MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b', Token: '2336412f37',
      TopicArn: TOPIC, Message: `You have chosen to subscribe to the topic ${TOPIC}.`, Timestamp: '2025-01-14T10:21:00.000Z',
      SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=2336412f37`,
    };
    const signed = snsSign(confirmation, '1');
    expect(await parseSes(req(signed), {}, opts)).toEqual({ events: [], subscribeUrl: confirmation.SubscribeURL });
    await rejectCode(parseSes(req({ ...signed, SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=evil' }), {}, opts), 'signature');
  });

  it('refuses tampered messages, foreign certificates and unknown signature versions', async () => {
    const signed = snsSign(notification(bounce('Permanent')), '2');
    await rejectCode(parseSes(req({ ...signed, Message: JSON.stringify(bounce('Transient')) }), {}, opts), 'signature');
    await rejectCode(parseSes(req(snsSign(notification(bounce('Permanent')), '2', otherCert.privateKey)), {}, opts), 'signature');
    await rejectCode(parseSes(req({ ...signed, SignatureVersion: '3' }), {}, opts), 'signature');
    await rejectCode(parseSes(req({ ...signed, Signature: undefined }), {}, opts), 'signature');
    await rejectCode(parseSes(req(signed), { topicArn: 'arn:aws:sns:us-east-1:123456789012:another' }, opts), 'signature');
  });

  it('only fetches certificates over https from an SNS host', async () => {
    const signed = snsSign(notification(bounce('Permanent')), '2');
    fetchCert.mockClear();
    for (const url of [
      'http://sns.us-east-1.amazonaws.com/cert.pem',
      'https://sns.us-east-1.amazonaws.com.evil.example/cert.pem',
      'https://evil.example/sns.us-east-1.amazonaws.com/cert.pem',
      'https://s3.amazonaws.com/cert.pem',
      'https://sns.us-east-1.amazonaws.com:8443/cert.pem',
      'https://user@sns.us-east-1.amazonaws.com/cert.pem',
      'https://sns.us-east-1.amazonaws.com/cert.txt',
    ]) await rejectCode(parseSes(req({ ...signed, SigningCertURL: url }), {}, opts), 'signature');
    expect(fetchCert).not.toHaveBeenCalled();
  });

  it('caches certificates per URL and refuses an expired one', async () => {
    const fetchOnce = vi.fn((_url: string) => Promise.resolve(cert.pem));
    const body = req(snsSign(notification(bounce('Permanent')), '2'));
    await parseSes(body, {}, { now: () => NOW, fetchCert: fetchOnce });
    await parseSes(body, {}, { now: () => NOW, fetchCert: fetchOnce });
    expect(fetchOnce).toHaveBeenCalledTimes(1);
    expect(fetchOnce).toHaveBeenCalledWith(CERT_URL);

    const expired = selfSignedCert('sns.amazonaws.com', new Date('2020-01-01'), new Date('2021-01-01'));
    const old = req(snsSign(notification(bounce('Permanent')), '2', expired.privateKey));
    await rejectCode(parseSes(old, {}, { now: () => NOW, fetchCert: () => Promise.resolve(expired.pem) }), 'signature');
    await rejectCode(parseSes(body, {}, { now: () => NOW, fetchCert: () => Promise.reject(new Error('network down')) }), 'signature');
    await rejectCode(parseSes(body, {}, { now: () => NOW, fetchCert: () => Promise.resolve('not a certificate') }), 'signature');
  });

  it('refuses a message signed more than five minutes from now, and gives a replay the same event ids', async () => {
    const body = req(snsSign(notification(bounce('Permanent')), '2'));
    await rejectCode(parseSes(body, {}, { ...opts, now: () => new Date(NOW.getTime() + 6 * 60_000) }), 'stale');
    const first = await parseSes(body, {}, opts);
    const again = await parseSes(body, {}, { ...opts, now: () => new Date(NOW.getTime() + 60_000) });
    expect(again.events.map((e) => e.eventId)).toEqual(first.events.map((e) => e.eventId));
  });

  it('refuses bodies that are not SNS messages or carry no SES notification', async () => {
    await rejectCode(parseSes({ headers: {}, rawBody: Buffer.from('not json') }, {}, opts), 'payload');
    await rejectCode(parseSes(req({ Type: 'Something' }), {}, opts), 'payload');
    await rejectCode(parseSes(req(snsSign({ ...notification({}), Message: 'plain text' }, '2')), {}, opts), 'payload');
    await rejectCode(parseSes(req(snsSign(notification({ notificationType: 'Bounce', mail, bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: 'not-an-address' }] } }), '2')), {}, opts), 'payload');
  });
});
