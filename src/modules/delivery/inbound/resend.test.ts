import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InboundError, parseResend } from './index.ts';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const NOW = new Date('2025-01-14T10:30:00Z');
const opts = { now: () => NOW };
const wh = new Webhook(SECRET);

// Signed by the reference Standard Webhooks library, delivered with Svix's header names.
function signed(body: string, { id = 'msg_2pLqLvM4rAa5SAl0q6D7r', at = new Date(NOW.getTime() - 5_000), webhook = wh } = {}) {
  const signature = webhook.sign(id, at, body);
  return { headers: { 'svix-id': id, 'svix-timestamp': String(Math.floor(at.getTime() / 1000)), 'svix-signature': signature }, rawBody: Buffer.from(body) };
}
const rejectCode = async (p: Promise<unknown>, code: string) => {
  const err: unknown = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(InboundError);
  expect((err as InboundError).code).toBe(code);
};

// Shaped like the email.bounced example in Resend's webhook documentation.
const bounced = (over: Record<string, unknown> = {}) => JSON.stringify({
  type: 'email.bounced', created_at: '2025-01-14T10:29:50.126Z',
  data: {
    broadcast_id: '8b146471-e88e-4322-86af-016cd36fd216', created_at: '2025-01-14T10:29:40.894719+00:00',
    email_id: '56761188-7520-42d8-8898-ff6fc54ce618', from: 'Acme <onboarding@acme.example>', to: ['Delivered@Example.com'],
    subject: 'Welcome', bounce: { message: 'The recipient\'s email address is on the suppression list.', subType: 'Suppressed', type: 'Permanent' },
    tags: { tandem_message_id: 'msg_rs1' },
    ...over,
  },
});

describe('Resend (Svix / Standard Webhooks)', () => {
  it('verifies a signature made by the standardwebhooks library and maps a bounce', async () => {
    expect(await parseResend(signed(bounced()), { secret: SECRET }, opts)).toEqual([{
      provider: 'resend', kind: 'hard_bounce', email: 'delivered@example.com', providerMessageId: '56761188-7520-42d8-8898-ff6fc54ce618',
      messageId: 'msg_rs1', at: new Date('2025-01-14T10:29:50.126Z'), reason: 'Permanent: Suppressed: The recipient\'s email address is on the suppression list.',
      eventId: 'resend:msg_2pLqLvM4rAa5SAl0q6D7r:delivered@example.com',
    }]);
  });

  afterEach(() => { vi.useRealTimers(); });

  it('agrees with the standardwebhooks library on what verifies', async () => {
    // The library checks the timestamp against the clock.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    const req = signed(bounced());
    const unbranded = { 'webhook-id': req.headers['svix-id'], 'webhook-timestamp': req.headers['svix-timestamp'], 'webhook-signature': req.headers['svix-signature'] };
    expect(() => wh.verify(req.rawBody, unbranded)).not.toThrow();
    // Both accept a rotated secret's signature listed beside a stale one, and the unbranded header names.
    const rotated = `v1,${Buffer.alloc(32).toString('base64')} ${req.headers['svix-signature']}`;
    expect(() => wh.verify(req.rawBody, { ...unbranded, 'webhook-signature': rotated })).not.toThrow();
    expect(await parseResend({ headers: { ...unbranded, 'webhook-signature': rotated }, rawBody: req.rawBody }, { secret: SECRET }, opts)).toHaveLength(1);
    // Both refuse a changed body.
    const changed = Buffer.from(req.rawBody.toString().replace('Permanent', 'Transient'));
    expect(() => wh.verify(changed, unbranded)).toThrow();
    await rejectCode(parseResend({ ...req, rawBody: changed }, { secret: SECRET }, opts), 'signature');
  });

  it('maps complaints, deliveries, clicks and transient bounces; ignores other events', async () => {
    const kinds = async (type: string, over: Record<string, unknown> = {}) =>
      (await parseResend(signed(bounced(over).replace('email.bounced', type)), { secret: SECRET }, opts)).map((e) => e.kind);
    expect(await kinds('email.complained', { bounce: undefined })).toEqual(['complaint']);
    expect(await kinds('email.delivered', { bounce: undefined })).toEqual(['delivered']);
    expect(await kinds('email.clicked', { bounce: undefined, click: { link: 'https://acme.example' } })).toEqual(['clicked']);
    expect(await kinds('email.bounced', { bounce: { type: 'Transient', subType: 'MailboxFull' } })).toEqual(['soft_bounce']);
    expect(await kinds('email.delivery_delayed')).toEqual([]);
    const tagsAsList = await parseResend(signed(bounced({ tags: [{ name: 'tandem_message_id', value: 'msg_list' }] })), { secret: SECRET }, opts);
    expect(tagsAsList[0]!.messageId).toBe('msg_list');
  });

  it('refuses another secret, missing headers, a malformed secret and stale timestamps', async () => {
    const other = new Webhook(`whsec_${randomBytes(24).toString('base64')}`);
    await rejectCode(parseResend(signed(bounced(), { webhook: other }), { secret: SECRET }, opts), 'signature');
    await rejectCode(parseResend({ headers: {}, rawBody: Buffer.from(bounced()) }, { secret: SECRET }, opts), 'signature');
    await rejectCode(parseResend(signed(bounced()), { secret: 'whsec_' }, opts), 'signature');
    await rejectCode(parseResend(signed(bounced(), { at: new Date(NOW.getTime() - 6 * 60_000) }), { secret: SECRET }, opts), 'stale');
    await rejectCode(parseResend(signed(bounced(), { at: new Date(NOW.getTime() + 6 * 60_000) }), { secret: SECRET }, opts), 'stale');
  });

  it('refuses signed bodies that are not Resend events', async () => {
    await rejectCode(parseResend(signed('[]'), { secret: SECRET }, opts), 'payload');
    await rejectCode(parseResend(signed('{"type":"email.bounced"}'), { secret: SECRET }, opts), 'payload');
    await rejectCode(parseResend(signed(bounced({ to: [] })), { secret: SECRET }, opts), 'payload');
    await rejectCode(parseResend(signed('not json'), { secret: SECRET }, opts), 'payload');
  });
});
