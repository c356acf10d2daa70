// A workspace's own SMTP sender (POST /api/senders), and RELIABILITY 8 end to end: a provider's
// hard-bounce webhook, replayed twice and out of order with a later "delivered", suppresses the
// address; later sends to it are zero. A soft bounce suppresses nothing; a bad signature changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, createTestTandem, type TestTandem } from './harness.ts';
import { noSendJobsLeft, until } from './helpers/wait.ts';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

describe('senders and bounce webhooks', () => {
  let t: TestTandem;
  let sink: SmtpSink;
  let ws: CreatedWorkspace;
  let senderId: string;
  const postmark = { username: 'tandem-hooks', password: 'a-long-secret' };

  beforeAll(async () => {
    sink = await startSmtpSink();
    // No TANDEM_SMTP_URL: without the workspace's sender, mail would go to the dev inbox. The sender is
    // saved through the API, so its loopback sink has to be allowed explicitly.
    t = await createTestTandem({ listen: true, worker: true, config: { outboundAllowPrivate: ['127.0.0.1/32'] } });
    ws = await t.services.workspaces.create('Bounces');
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const res = await fetch(`${t.baseUrl}${path}`, {
      method, headers: { authorization: bearer(ws.appApiKey), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
  };
  const sendTo = async (to: string) => (await api<{ delivery_id: string }>('POST', '/v1/send/email', {
    to, from: 'hello@bounces.example', subject: 'Hello', body: '<p>Hello</p>',
  })).json.delivery_id;
  const settled = (id: string) => until(async () => {
    const m = (await api<{ status: string; provider: string | null }>('GET', `/api/messages/${id}`)).json;
    return m.status !== 'queued' && m.status !== 'sending' && m;
  }, `${id} to leave the queue`);
  const hook = (payload: object, credentials = postmark) => fetch(`${t.baseUrl}/webhooks/inbound/postmark/${senderId}`, {
    method: 'POST', headers: { authorization: basic(credentials.username, credentials.password), 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });

  it('sends through the workspace\'s own SMTP sender, secrets hidden in the API', async () => {
    const created = await api<{ id: string; kind: string; settings: Record<string, unknown> }>('POST', '/api/senders', {
      name: 'Our relay', channel: 'email', config: { kind: 'smtp', url: sink.url }, inbound: { postmark },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ kind: 'smtp', settings: { kind: 'smtp', url: sink.url } });
    expect(JSON.stringify(created.json)).not.toContain(postmark.password);
    senderId = created.json.id;
    const bad = await api('POST', '/api/senders', { name: 'x', channel: 'sms', config: { kind: 'smtp', url: sink.url } });
    expect(bad.json).toMatchObject({ error: { code: 'request.invalid', field: 'config.kind' } });

    const id = await sendTo('erin@example.com');
    expect(await settled(id)).toMatchObject({ status: 'sent', provider: 'smtp' });
    expect((await sink.waitFor(1))[0]?.to).toEqual(['erin@example.com']);
  });

  it('suppresses on a hard bounce, once, whatever the order and the replays; later sends are zero', async () => {
    const first = (await api<{ messages: Array<{ id: string; to: string }> }>('GET', '/api/messages')).json.messages.find((m) => m.to === 'erin@example.com');
    const bounce = {
      RecordType: 'Bounce', ID: 9001, Type: 'HardBounce', TypeCode: 1, MessageID: 'pm-1', Email: 'Erin@Example.com',
      BouncedAt: new Date().toISOString(), Details: 'smtp;550 5.1.1 no such user', Inactive: true, Metadata: { tandem_message_id: first?.id },
    };
    const delivered = { RecordType: 'Delivery', MessageID: 'pm-1', Recipient: 'erin@example.com', DeliveredAt: new Date().toISOString(), Metadata: { tandem_message_id: first?.id } };
    // Out of order: the bounce, the bounce again, then a late "delivered", then the bounce once more.
    const answers = [];
    for (const payload of [bounce, bounce, delivered, bounce]) answers.push(await (await hook(payload)).json());
    expect(answers).toEqual([
      { received: 1, applied: 1, duplicates: 0 }, { received: 1, applied: 0, duplicates: 1 },
      { received: 1, applied: 1, duplicates: 0 }, { received: 1, applied: 0, duplicates: 1 },
    ]);
    const m = (await api<{ status: string; events: Array<{ type: string }> }>('GET', `/api/messages/${first?.id}`)).json;
    expect(m.status).toBe('bounced');
    expect(m.events.map((e) => e.type)).toEqual(['queued', 'sent', 'hard_bounce', 'delivered']);

    const before = sink.received.length;
    const later = await Promise.all([sendTo('erin@example.com'), sendTo('ERIN@example.com')]);
    for (const id of later) expect(await settled(id)).toMatchObject({ status: 'suppressed' });
    await noSendJobsLeft(t.services.db); // a send would have needed a job
    expect(sink.received.length).toBe(before);
  });

  it('a soft bounce suppresses nothing; a bad signature is refused and changes nothing', async () => {
    const soft = { RecordType: 'Bounce', ID: 9002, Type: 'SoftBounce', TypeCode: 4096, MessageID: 'pm-2', Email: 'frank@example.com', BouncedAt: new Date().toISOString(), Inactive: false };
    expect((await (await hook(soft)).json() as { applied: number }).applied).toBe(1);
    const forged = await hook({ ...soft, ID: 9003, Type: 'HardBounce', Inactive: true }, { username: 'tandem-hooks', password: 'wrong' });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: { code: 'inbound.signature' } });
    const id = await sendTo('frank@example.com');
    expect(await settled(id)).toMatchObject({ status: 'sent' });
  });

  it('pauses the sender at a 0.3% complaint rate, and a paused sender sends nothing until resumed', async () => {
    // 200 more sends by this sender (the window needs at least 200), then one complaint: 1/203 > 0.3%.
    const ids = [];
    for (let i = 0; i < 200; i++) ids.push(await sendTo(`bulk-${i}@example.com`));
    for (const id of ids) await settled(id);
    const complaint = { RecordType: 'SpamComplaint', ID: 9100, Type: 'SpamComplaint', TypeCode: 512, MessageID: 'pm-c', Email: 'bulk-7@example.com',
      BouncedAt: new Date().toISOString(), Metadata: { tandem_message_id: ids[7] } };
    expect((await (await hook(complaint)).json() as { applied: number }).applied).toBe(1);
    const senders = (await api<{ senders: Array<{ id: string; status: string; pausedReason: string | null }> }>('GET', '/api/senders')).json.senders;
    expect(senders.find((x) => x.id === senderId)).toMatchObject({ status: 'paused', pausedReason: expect.stringContaining('complaints') as unknown });

    const before = sink.received.length;
    const held = await sendTo('grace@example.com');
    expect(await settled(held)).toMatchObject({ status: 'retrying' });
    expect(sink.received.length).toBe(before);
    const resumed = await api<{ status: string }>('POST', `/api/senders/${senderId}/resume`);
    expect(resumed.json.status).toBe('active');
    // The held message goes at its next attempt (run it now rather than wait out the back-off).
    await t.services.delivery.send(ws.workspaceId, held);
    expect(await settled(held)).toMatchObject({ status: 'sent' });
  }, 180_000); // 200 sends one after another: minutes on a loaded machine
});
