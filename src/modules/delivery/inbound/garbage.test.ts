// Whatever arrives, a parser answers with events or an InboundError: never another exception. Garbage is
// tried both unsigned and correctly signed, so the payload readers behind the signature checks see it too.
import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selfSignedCert } from './fixtures/x509.ts';
import { InboundError, parseDsn, parseMailgun, parsePostmark, parseResend, parseSendGrid, parseSes, type InboundRequest } from './index.ts';

const NOW = new Date('2025-01-14T10:30:00Z');
const nowSec = Math.floor(NOW.getTime() / 1000);
const cert = selfSignedCert('sns.amazonaws.com', new Date('2024-01-01'), new Date('2030-01-01'));
const opts = { now: () => NOW, fetchCert: () => Promise.resolve(cert.pem) };
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const sendgrid = { publicKey: ec.publicKey.export({ type: 'spki', format: 'der' }).toString('base64') };
const whKey = randomBytes(24);
const resend = { secret: `whsec_${whKey.toString('base64')}` };
const mailgun = { signingKey: 'key-garbage' };
const postmark = { username: 'u', password: 'p' };

async function onlyInboundErrors(run: () => Promise<unknown>): Promise<boolean> {
  try {
    const out = await run();
    return Array.isArray(out) || (typeof out === 'object' && out !== null && Array.isArray((out as { events?: unknown }).events));
  } catch (err) {
    if (err instanceof InboundError && ['signature', 'stale', 'payload'].includes(err.code)) return true;
    throw err;
  }
}

const headerNames = ['authorization', 'svix-id', 'svix-timestamp', 'svix-signature', 'x-twilio-email-event-webhook-signature', 'x-twilio-email-event-webhook-timestamp', 'content-type'];
const garbageRequest = fc.record({
  headers: fc.dictionary(fc.oneof(fc.constantFrom(...headerNames), fc.string()), fc.option(fc.string(), { nil: undefined })),
  rawBody: fc.oneof(fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)), fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null'))),
});
// JSON that often looks like the real thing: known field names with values of any type.
const keys = ['Type', 'RecordType', 'ID', 'Email', 'Recipient', 'BouncedAt', 'DeliveredAt', 'Metadata', 'Inactive', 'MessageID', 'event', 'type', 'email', 'timestamp', 'sg_event_id',
  'sg_message_id', 'reason', 'status', 'recipient', 'severity', 'id', 'user-variables', 'message', 'delivery-status', 'data', 'created_at', 'to', 'email_id', 'bounce', 'tags',
  'notificationType', 'eventType', 'mail', 'complaint', 'delivery', 'bouncedRecipients', 'complainedRecipients', 'recipients', 'headers', 'destination'];
const values = fc.oneof(fc.jsonValue(), fc.constantFrom('Bounce', 'Complaint', 'Delivery', 'Open', 'bounce', 'dropped', 'failed', 'email.bounced', 'Permanent', 'a@b.example', '2025-01-14T10:00:00Z', 1736850000));
const shaped: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, values, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.constantFrom(...keys), tie('node'), { maxKeys: 6 })),
})).node;
const body = fc.oneof(shaped, fc.jsonValue(), fc.array(shaped, { maxLength: 3 })).map((v) => JSON.stringify(v) ?? 'null');

const snsSigned = (message: string): InboundRequest => {
  const msg = { Type: 'Notification', MessageId: 'm-1', TopicArn: 'arn:aws:sns:us-east-1:1:t', Message: message, Timestamp: NOW.toISOString() };
  const canonical = ['Message', 'MessageId', 'Timestamp', 'TopicArn', 'Type'].map((f) => `${f}\n${msg[f as keyof typeof msg]}\n`).join('');
  const signed = { ...msg, SignatureVersion: '2', Signature: sign('sha256', Buffer.from(canonical), cert.privateKey).toString('base64'), SigningCertURL: 'https://sns.us-east-1.amazonaws.com/c.pem' };
  return { headers: {}, rawBody: Buffer.from(JSON.stringify(signed)) };
};
const sendgridSigned = (b: string): InboundRequest => ({
  headers: { 'x-twilio-email-event-webhook-signature': sign('sha256', Buffer.from(String(nowSec) + b), ec.privateKey).toString('base64'), 'x-twilio-email-event-webhook-timestamp': String(nowSec) },
  rawBody: Buffer.from(b),
});
const resendSigned = (b: string): InboundRequest => ({
  headers: { 'svix-id': 'msg_1', 'svix-timestamp': String(nowSec), 'svix-signature': `v1,${createHmac('sha256', whKey).update(`msg_1.${nowSec}.${b}`).digest('base64')}` },
  rawBody: Buffer.from(b),
});
const mailgunSigned = (eventData: unknown): InboundRequest => ({
  headers: {},
  rawBody: Buffer.from(JSON.stringify({ signature: { timestamp: String(nowSec), token: 't', signature: createHmac('sha256', mailgun.signingKey).update(`${nowSec}t`).digest('hex') }, 'event-data': eventData })),
});
const postmarkAuthed = (b: string): InboundRequest => ({ headers: { Authorization: `Basic ${Buffer.from('u:p').toString('base64')}` }, rawBody: Buffer.from(b) });

const RUNS = { numRuns: 150 };

// Valid examples of each payload, for the mutation property below.
const examples = {
  ses: { notificationType: 'Bounce', mail: { timestamp: '2025-01-14T10:21:04Z', messageId: 'x', destination: ['a@example.org'], headers: [{ name: 'X-Tandem-Message-Id', value: 'msg_1' }], tags: { tandem_message_id: ['msg_1'] } }, bounce: { bounceType: 'Permanent', bounceSubType: 'General', timestamp: '2025-01-14T10:21:07Z', feedbackId: 'f', bouncedRecipients: [{ emailAddress: 'a@example.org', diagnosticCode: 'smtp; 550' }] } },
  postmark: { RecordType: 'Bounce', ID: 42, Type: 'HardBounce', MessageID: 'm', Details: 'd', Email: 'a@example.org', BouncedAt: '2025-01-14T10:21:07Z', Inactive: true, Metadata: { tandem_message_id: 'msg_1' } },
  sendgrid: [{ email: 'a@example.org', timestamp: 1736850000, event: 'bounce', type: 'bounce', reason: 'r', status: '5.1.1', sg_event_id: 'e', sg_message_id: 'm.filter1', tandem_message_id: 'msg_1' }],
  mailgun: { id: 'i', timestamp: 1736850067.9, event: 'failed', severity: 'permanent', recipient: 'a@example.org', 'delivery-status': { code: 550, message: 'm' }, message: { headers: { 'message-id': 'x@y' } }, 'user-variables': { tandem_message_id: 'msg_1' } },
  resend: { type: 'email.bounced', created_at: '2025-01-14T10:29:50Z', data: { email_id: 'e', to: ['a@example.org'], bounce: { type: 'Permanent', subType: 'General', message: 'm' }, tags: { tandem_message_id: 'msg_1' } } },
};
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  return [prefix, ...entries.flatMap(([k, x]) => paths(x, [...prefix, k]))];
}
function mutate<T>(base: T, changes: [number, unknown][]): T {
  const copy = structuredClone(base) as unknown;
  const all = paths(copy).filter((p) => p.length > 0);
  let root = copy;
  for (const [i, value] of changes) {
    const path = all[i % all.length]!;
    let node = root as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) node = (node?.[k] ?? {}) as Record<string | number, unknown>;
    if (node && typeof node === 'object') node[path[path.length - 1]!] = value;
    else root = value;
  }
  return root as T;
}
const j = (v: unknown) => JSON.stringify(v) ?? 'null';
const changes = fc.array(fc.tuple(fc.nat(), fc.oneof(values, fc.constant(undefined), fc.constant(null))), { minLength: 1, maxLength: 4 });

describe('no parser throws anything but InboundError', () => {
  it('on garbage requests', async () => {
    await fc.assert(fc.asyncProperty(garbageRequest, async (req) => {
      expect(await onlyInboundErrors(() => parseSes(req, {}, opts))).toBe(true);
      expect(await onlyInboundErrors(() => parsePostmark(req, postmark, opts))).toBe(true);
      expect(await onlyInboundErrors(() => parseSendGrid(req, sendgrid, opts))).toBe(true);
      expect(await onlyInboundErrors(() => parseMailgun(req, mailgun, opts))).toBe(true);
      expect(await onlyInboundErrors(() => parseResend(req, resend, opts))).toBe(true);
      expect(await onlyInboundErrors(() => parseDsn(req.rawBody))).toBe(true);
    }), RUNS);
  });

  it('on garbage behind valid signatures and credentials', async () => {
    await fc.assert(fc.asyncProperty(body, shaped, async (b, data) => {
      expect(await onlyInboundErrors(() => parseSes(snsSigned(b), {}, opts))).toBe(true);
      expect(await onlyInboundErrors(() => parsePostmark(postmarkAuthed(b), postmark, opts))).toBe(true);
      expect(await onlyInboundErrors(() => parseSendGrid(sendgridSigned(b), sendgrid, opts))).toBe(true);
      expect(await onlyInboundErrors(() => parseMailgun(mailgunSigned(data), mailgun, opts))).toBe(true);
      expect(await onlyInboundErrors(() => parseResend(resendSigned(b), resend, opts))).toBe(true);
    }), RUNS);
  });

  it('on valid payloads with fields changed to anything', async () => {
    await fc.assert(fc.asyncProperty(changes, async (c) => {
      expect(await onlyInboundErrors(() => parseSes(snsSigned(j(mutate(examples.ses, c))), {}, opts))).toBe(true);
      expect(await onlyInboundErrors(() => parsePostmark(postmarkAuthed(j(mutate(examples.postmark, c))), postmark, opts))).toBe(true);
      expect(await onlyInboundErrors(() => parseSendGrid(sendgridSigned(j(mutate(examples.sendgrid, c))), sendgrid, opts))).toBe(true);
      expect(await onlyInboundErrors(() => parseMailgun(mailgunSigned(mutate(examples.mailgun, c)), mailgun, opts))).toBe(true);
      expect(await onlyInboundErrors(() => parseResend(resendSigned(j(mutate(examples.resend, c))), resend, opts))).toBe(true);
    }), { numRuns: 300 });
    // The examples themselves parse, so the mutations start from the deep end of each parser.
    expect(await parseSes(snsSigned(JSON.stringify(examples.ses)), {}, opts)).toMatchObject({ events: [{ kind: 'hard_bounce', messageId: 'msg_1' }] });
    expect(await parsePostmark(postmarkAuthed(JSON.stringify(examples.postmark)), postmark, opts)).toMatchObject([{ kind: 'hard_bounce' }]);
    expect(await parseSendGrid(sendgridSigned(JSON.stringify(examples.sendgrid)), sendgrid, opts)).toMatchObject([{ kind: 'hard_bounce' }]);
    expect(await parseMailgun(mailgunSigned(examples.mailgun), mailgun, opts)).toMatchObject([{ kind: 'hard_bounce' }]);
    expect(await parseResend(resendSigned(JSON.stringify(examples.resend)), resend, opts)).toMatchObject([{ kind: 'hard_bounce' }]);
  });

  it('on damaged delivery status notifications', async () => {
    const dsn = readFileSync(new URL('./fixtures/dsn-postfix-delayed.eml', import.meta.url)).toString('latin1');
    await fc.assert(fc.asyncProperty(fc.nat(dsn.length), fc.nat(200), fc.string({ maxLength: 40 }), async (at, cut, insert) => {
      const damaged = Buffer.from(dsn.slice(0, at) + insert + dsn.slice(at + cut), 'latin1');
      expect(await onlyInboundErrors(() => parseDsn(damaged))).toBe(true);
    }), { numRuns: 100 });
  });
});
