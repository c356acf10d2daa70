import { describe, expect, it } from 'vitest';
import { InboundError, parsePostmark } from './index.ts';

const secrets = { username: 'tandem', password: 's3cret-pass' };
const opts = { now: () => new Date('2025-01-14T10:30:00Z') };
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const req = (body: unknown, authorization: string | undefined = basic('tandem', 's3cret-pass')) =>
  ({ headers: { authorization }, rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) });
const rejectCode = async (p: Promise<unknown>, code: string) => {
  const err: unknown = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(InboundError);
  expect((err as InboundError).code).toBe(code);
};

// Shaped like the Bounce webhook example in Postmark's documentation.
const bounce = (over: Record<string, unknown> = {}) => ({
  RecordType: 'Bounce', ID: 42, Type: 'HardBounce', TypeCode: 1, Name: 'Hard bounce', Tag: 'welcome',
  MessageID: '883953f4-6105-42a2-a16a-77a8eac79483', ServerID: 23, MessageStream: 'outbound',
  Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
  Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
  Email: 'John@Example.com', From: 'sender@acme.example', BouncedAt: '2025-01-14T13:28:10.2735393-04:00',
  DumpAvailable: true, Inactive: true, CanActivate: true, Subject: 'Welcome', Metadata: { tandem_message_id: 'msg_pm1', user_id: 43 },
  ...over,
});

describe('Postmark', () => {
  it('maps a hard bounce with our message id from Metadata and the bounce ID as event id', async () => {
    // Bounce IDs are 64-bit: written as raw JSON digits, beyond what a double keeps exactly.
    const withId = (id: string) => JSON.stringify(bounce({ ID: 'ID_HERE', Metadata: { ID: 7, tandem_message_id: 'msg_pm1' } })).replace('"ID_HERE"', id);
    const [a] = await parsePostmark(req(withId('4323372036854775807')), secrets, opts);
    const [b] = await parsePostmark(req(withId('4323372036854775806')), secrets, opts);
    expect([a!.eventId, b!.eventId]).toEqual(['postmark:bounce:4323372036854775807', 'postmark:bounce:4323372036854775806']);
    expect(await parsePostmark(req(bounce({ ID: 42 })), secrets, opts)).toEqual([{
      provider: 'postmark', kind: 'hard_bounce', email: 'john@example.com', providerMessageId: '883953f4-6105-42a2-a16a-77a8eac79483',
      messageId: 'msg_pm1', at: new Date('2025-01-14T17:28:10.273Z'),
      reason: 'HardBounce: smtp;550 5.1.1 The email account that you tried to reach does not exist.', eventId: 'postmark:bounce:42',
    }]);
  });

  it('tells soft bounces, deactivations, complaints and unsubscribes apart by Type and Inactive', async () => {
    const kind = async (over: Record<string, unknown>) => (await parsePostmark(req(bounce(over)), secrets, opts)).map((e) => e.kind);
    expect(await kind({ Type: 'SoftBounce', Inactive: false })).toEqual(['soft_bounce']);
    expect(await kind({ Type: 'Transient', Inactive: false })).toEqual(['soft_bounce']);
    expect(await kind({ Type: 'DnsError', Inactive: false })).toEqual(['soft_bounce']);
    expect(await kind({ Type: 'SpamNotification', Inactive: true })).toEqual(['hard_bounce']);
    expect(await kind({ Type: 'BadEmailAddress', Inactive: false })).toEqual(['hard_bounce']);
    expect(await kind({ Type: 'Unsubscribe', Inactive: false })).toEqual(['unsubscribe']);
    expect(await kind({ Type: 'AutoResponder', Inactive: false })).toEqual([]);
    expect(await kind({ RecordType: 'SpamComplaint', Type: 'SpamComplaint', TypeCode: 512 })).toEqual(['complaint']);
    expect(await kind({ RecordType: undefined, Type: 'HardBounce' })).toEqual(['hard_bounce']);
  });

  it('maps Delivery, Open, Click and a recipient unsubscribe (SubscriptionChange)', async () => {
    const delivery = { RecordType: 'Delivery', ServerID: 23, MessageStream: 'outbound', MessageID: 'pm-2', Recipient: 'john@example.com', Tag: 'welcome', DeliveredAt: '2025-01-14T16:59:38Z', Details: 'Test delivery webhook details', Metadata: { tandem_message_id: 'msg_pm2' } };
    const [d] = await parsePostmark(req(delivery), secrets, opts);
    expect(d).toMatchObject({ kind: 'delivered', messageId: 'msg_pm2', providerMessageId: 'pm-2', at: new Date('2025-01-14T16:59:38Z') });
    expect(d!.eventId).toMatch(/^postmark:sha256:[0-9a-f]{64}$/);
    expect((await parsePostmark(req(delivery), secrets, opts))[0]!.eventId).toBe(d!.eventId);

    const click = { RecordType: 'Click', MessageID: 'pm-3', Recipient: 'john@example.com', ReceivedAt: '2025-01-14T17:00:00Z', OriginalLink: 'https://acme.example/a' };
    expect(await parsePostmark(req(click), secrets, opts)).toEqual([expect.objectContaining({ kind: 'clicked', reason: 'https://acme.example/a' })]);
    const change = (reason: string) => ({ RecordType: 'SubscriptionChange', MessageID: 'pm-4', Recipient: 'john@example.com', ChangedAt: '2025-01-14T17:00:00Z', SuppressSending: true, SuppressionReason: reason });
    expect(await parsePostmark(req(change('ManualSuppression')), secrets, opts)).toEqual([expect.objectContaining({ kind: 'unsubscribe' })]);
    expect(await parsePostmark(req(change('HardBounce')), secrets, opts)).toEqual([]);
  });

  it('refuses wrong, missing or unconfigured Basic credentials', async () => {
    await rejectCode(parsePostmark(req(bounce(), basic('tandem', 'wrong')), secrets, opts), 'signature');
    await rejectCode(parsePostmark(req(bounce(), basic('other', 's3cret-pass')), secrets, opts), 'signature');
    await rejectCode(parsePostmark({ headers: {}, rawBody: Buffer.from(JSON.stringify(bounce())) }, secrets, opts), 'signature');
    await rejectCode(parsePostmark(req(bounce(), 'Bearer s3cret-pass'), secrets, opts), 'signature');
    await rejectCode(parsePostmark(req(bounce(), basic('', '')), { username: '', password: '' }, opts), 'signature');
  });

  it('refuses bodies that are not Postmark webhooks', async () => {
    await rejectCode(parsePostmark(req('{nope'), secrets, opts), 'payload');
    await rejectCode(parsePostmark(req([bounce()]), secrets, opts), 'payload');
    await rejectCode(parsePostmark(req({ RecordType: 'Inbound' }), secrets, opts), 'payload');
    await rejectCode(parsePostmark(req(bounce({ Email: 'nobody' })), secrets, opts), 'payload');
    await rejectCode(parsePostmark(req(bounce({ BouncedAt: 'yesterday' })), secrets, opts), 'payload');
  });
});
