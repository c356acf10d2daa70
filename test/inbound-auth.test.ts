// RELIABILITY 18, inbound half: every inbound route the app registers (anything under /webhooks/ or
// naming "inbound"), for every provider its :provider parameter accepts, refuses a request that lacks
// its secret or signature, and a forged hard bounce changes nothing: no suppression, no inbound event,
// no message event, no status change. A route added later is walked too; a parameter this test does
// not know how to fill fails it, so the new route gets a forged request of its own.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, createTestTandem, type TestTandem } from './harness.ts';
import { registeredRoutes } from './registered-routes.ts';
import { z } from 'zod';
import { adapter, INBOUND_PROVIDERS, type InboundProvider } from '../src/modules/delivery/inbound/index.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

const VICTIM = 'victim@example.org';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:tandem-bounces';
const DSN_TOKEN = randomBytes(24).toString('hex');
const SECRETS = {
  ses: { topicArn: TOPIC },
  postmark: { username: 'hooks', password: 'postmark-inbound-pass' },
  sendgrid: { publicKey: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==' },
  mailgun: { signingKey: 'mailgun-signing-key-123' },
  resend: { secret: `whsec_${randomBytes(24).toString('base64')}` },
  dsn: { token: DSN_TOKEN },
} satisfies Record<InboundProvider, unknown>;

function dsn(to: string, messageId: string): string {
  return [
    'From: MAILER-DAEMON@mx.example.net', 'To: bounces@acme.example', `Message-Id: <${randomBytes(6).toString('hex')}@mx.example.net>`,
    'Date: Mon, 7 Dec 2026 03:00:00 +0000', 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"', '', '--b1', 'Content-Type: text/plain', '', 'Undelivered.', '',
    '--b1', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.net', '',
    `Final-Recipient: rfc822; ${to}`, 'Action: failed', 'Status: 5.1.1', 'Diagnostic-Code: smtp; 550 no such user', '',
    '--b1', 'Content-Type: text/rfc822-headers', '', `X-Tandem-Message-Id: ${messageId}`, 'Subject: Hello', '', '--b1--', '',
  ].join('\r\n');
}

/** A realistic hard bounce (or complaint) of the victim's message, as each provider would send it, with forged or no credentials. */
function forged(provider: InboundProvider, messageId: string, auth: 'none' | 'wrong'): { headers: Record<string, string>; body: string } {
  const now = new Date();
  const secs = String(Math.floor(now.getTime() / 1000));
  const json = { 'content-type': 'application/json' };
  switch (provider) {
    case 'ses': {
      const message = JSON.stringify({ notificationType: 'Bounce', mail: { messageId: 'ses-1', timestamp: now.toISOString(), tags: { tandem_message_id: [messageId] } },
        bounce: { bounceType: 'Permanent', feedbackId: `fb-${randomBytes(4).toString('hex')}`, timestamp: now.toISOString(), bouncedRecipients: [{ emailAddress: VICTIM }] } });
      // Forged: the certificate URL is not on an SNS host (so nothing is fetched) or the signature is missing.
      const envelope = { Type: 'Notification', MessageId: randomBytes(8).toString('hex'), TopicArn: TOPIC, Message: message, Timestamp: now.toISOString(),
        SignatureVersion: '1', ...(auth === 'wrong' ? { Signature: randomBytes(64).toString('base64'), SigningCertURL: 'https://attacker.example/cert.pem' } : {}) };
      return { headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' }, body: JSON.stringify(envelope) };
    }
    case 'postmark':
      return {
        headers: { ...json, ...(auth === 'wrong' ? { authorization: basic('hooks', 'guessed-password') } : {}) },
        body: JSON.stringify({ RecordType: 'Bounce', ID: Number(randomBytes(3).readUIntBE(0, 3)), Type: 'HardBounce', Email: VICTIM, BouncedAt: now.toISOString(), Inactive: true, MessageID: 'pm-1', Metadata: { tandem_message_id: messageId } }),
      };
    case 'sendgrid':
      return {
        headers: { ...json, ...(auth === 'wrong' ? { 'x-twilio-email-event-webhook-signature': randomBytes(70).toString('base64'), 'x-twilio-email-event-webhook-timestamp': secs } : {}) },
        body: JSON.stringify([{ event: 'bounce', type: 'bounce', email: VICTIM, timestamp: Number(secs), sg_event_id: randomBytes(8).toString('hex'), tandem_message_id: messageId }]),
      };
    case 'mailgun':
      return {
        headers: json,
        body: JSON.stringify({
          ...(auth === 'wrong' ? { signature: { timestamp: secs, token: randomBytes(25).toString('hex'), signature: randomBytes(32).toString('hex') } } : {}),
          'event-data': { event: 'failed', severity: 'permanent', recipient: VICTIM, timestamp: Number(secs), id: randomBytes(8).toString('hex'), 'user-variables': { tandem_message_id: messageId } },
        }),
      };
    case 'resend':
      return {
        headers: { ...json, ...(auth === 'wrong' ? { 'svix-id': `msg_${randomBytes(8).toString('hex')}`, 'svix-timestamp': secs, 'svix-signature': `v1,${randomBytes(32).toString('base64')}` } : {}) },
        body: JSON.stringify({ type: 'email.bounced', created_at: now.toISOString(), data: { email_id: 're-1', to: [VICTIM], created_at: now.toISOString(), tags: { tandem_message_id: messageId }, bounce: { type: 'Permanent' } } }),
      };
    case 'dsn':
      return {
        headers: { 'content-type': 'message/rfc822', ...(auth === 'wrong' ? { authorization: bearer(randomBytes(24).toString('hex')) } : {}) },
        body: dsn(VICTIM, messageId),
      };
  }
}

describe('every inbound route requires its secret or signature', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let configured: string;
  let bare: string;
  let messageId: string;

  beforeAll(async () => {
    t = await createTestTandem();
    ws = await t.workspace('Inbound');
    const create = async (inbound?: object) => {
      const res = await t.app.inject({ method: 'POST', url: '/api/senders', headers: { authorization: bearer(ws.appApiKey) },
        payload: { name: 'Relay', channel: 'email', isDefault: false, config: { kind: 'postmark', serverToken: 'pm-token' }, ...(inbound ? { inbound } : {}) } });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ id: string }>().id;
    };
    configured = await create(SECRETS);
    bare = await create();
    const sent = await t.app.inject({ method: 'POST', url: '/v1/send/email', headers: { authorization: bearer(ws.appApiKey) },
      payload: { to: VICTIM, from: 'hello@acme.example', subject: 'Hello', body: '<p>Hello</p>' } });
    expect(sent.statusCode, sent.body).toBeLessThan(300);
    messageId = sent.json<{ delivery_id: string }>().delivery_id;
    await t.services.delivery.send(ws.workspaceId, messageId);
  });
  afterAll(async () => t?.close());

  const state = async () => {
    const count = async (table: string) => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(t.services.db)).rows[0]?.n);
    const m = await t.services.delivery.message(ws.workspaceId, messageId);
    return { suppressions: await count('suppressions'), inboundEvents: await count('inbound_events'), messageEvents: await count('message_events'), status: m?.status };
  };

  it('refuses forged bounces on every registered inbound route and provider: state changed = 0', async () => {
    const routes = registeredRoutes(t.app).filter((r) => r.method === 'POST' && (r.path.startsWith('/webhooks/') || r.path.includes('inbound')));
    expect(routes.length).toBeGreaterThan(0);
    const before = await state();
    expect(before.status).toBe('sent');
    const refusals: Array<{ url: string; auth: string; status: number; code: unknown }> = [];
    for (const route of routes) {
      const params = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
      for (const p of params) expect(['provider', 'senderId'], `${route.path}: teach this test how to fill :${p}`).toContain(p);
      for (const provider of params.includes('provider') ? INBOUND_PROVIDERS : [undefined]) {
        for (const senderId of [configured, bare]) {
          for (const auth of ['none', 'wrong'] as const) {
            const url = route.path.replace(':provider', provider ?? '').replace(':senderId', senderId);
            const req = forged(provider ?? 'dsn', messageId, auth);
            const res = await t.app.inject({ method: 'POST', url, headers: req.headers, payload: req.body });
            refusals.push({ url, auth, status: res.statusCode, code: res.json<{ error?: { code?: string } }>().error?.code });
          }
        }
      }
    }
    const accepted = refusals.filter((r) => r.status !== 401 && r.status !== 403);
    expect(accepted, JSON.stringify(accepted)).toEqual([]);
    expect(new Set(refusals.map((r) => r.code))).toEqual(new Set(['inbound.signature']));
    const after = await state();
    console.log(`inbound routes: ${routes.length} registered, ${refusals.length} forged requests over ${INBOUND_PROVIDERS.length} providers, accepted: ${accepted.length}, state changed: ${JSON.stringify(before) === JSON.stringify(after) ? 0 : 1}`);
    expect(after).toEqual(before);
  });

  it('a DSN with the sender\'s bearer token (or Basic with it as password) is applied: the counter above can move', async () => {
    const before = await state();
    const ok = await t.app.inject({ method: 'POST', url: `/webhooks/inbound/dsn/${configured}`, headers: { 'content-type': 'message/rfc822', authorization: bearer(DSN_TOKEN) }, payload: dsn(VICTIM, messageId) });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ received: 1, applied: 1 });
    const viaBasic = await t.app.inject({ method: 'POST', url: `/webhooks/inbound/dsn/${configured}`, headers: { 'content-type': 'message/rfc822', authorization: basic('relay', DSN_TOKEN) }, payload: dsn('other@example.org', messageId) });
    expect(viaBasic.json()).toMatchObject({ received: 1, applied: 1 });
    const after = await state();
    expect(after.status).toBe('bounced');
    expect(after.suppressions).toBe(before.suppressions + 2);
  });

  it('a sender cannot be saved with a provider entry but no secret', async () => {
    for (const inbound of [{ ses: {} }, { dsn: {} }, { dsn: { token: 'short' } }, { postmark: { username: 'x' } }]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/senders', headers: { authorization: bearer(ws.appApiKey) },
        payload: { name: 'Relay', channel: 'email', isDefault: false, config: { kind: 'postmark', serverToken: 'pm-token' }, inbound } });
      expect(res.statusCode, JSON.stringify(inbound)).toBe(400);
      expect(res.json<{ error: { code: string; field: string } }>().error).toMatchObject({ code: 'request.invalid', field: expect.stringMatching(/^inbound\./) as unknown });
    }
  });
});

describe('an inbound adapter cannot be defined without authentication', () => {
  it('refuses a secret schema that an empty configuration satisfies', () => {
    const parse = () => Promise.resolve({ events: [] });
    expect(() => adapter({ proof: 'none', secrets: z.object({}), parse })).toThrow(/accepts an empty secret/);
    expect(() => adapter({ proof: 'optional', secrets: z.object({ token: z.string().optional() }), parse })).toThrow(/accepts an empty secret/);
    expect(() => adapter({ proof: 'token', secrets: z.object({ token: z.string().min(1) }), parse })).not.toThrow();
  });
});
