// Delivery against a real local receiver: Standard Webhooks signatures checked by the independent
// `standardwebhooks` package (RELIABILITY 10), retries with the same webhook-id on our own schedule,
// 410 disabling the endpoint, and the outbound guard refusing loopback with the default config.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, FakeClock, type TestTandem } from '../../../test/harness.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';
import { RETRY_DELAYS_MS } from './schedule.ts';

interface Received { headers: Record<string, string>; body: string }
interface Receiver { url: string; received: Received[]; answers: number[]; close(): Promise<void> }

/** A webhook receiver on 127.0.0.1 that answers the queued statuses (then 204) and keeps each request. */
async function receiver(): Promise<Receiver> {
  const r: Receiver = { url: '', received: [], answers: [], close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      r.received.push({ headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = r.answers.shift() ?? 204;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? `status ${status}` : '');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  r.close = () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); });
  return r;
}

interface QueuedJob { payload: { workspaceId: string; messageId: string; endpointId: string; attempt: number }; run_at: Date }

async function deliverJobs(t: TestTandem): Promise<QueuedJob[]> {
  const res = await sql<QueuedJob>`SELECT j.payload, j.run_at FROM graphile_worker._private_jobs j
    JOIN graphile_worker._private_tasks k ON k.id = j.task_id WHERE k.identifier = 'webhooks:deliver' ORDER BY j.id`.execute(t.services.db);
  return res.rows;
}

async function clearJobs(t: TestTandem): Promise<void> {
  await sql`DELETE FROM graphile_worker._private_jobs`.execute(t.services.db);
}

/** Runs the queued delivery jobs (as the worker would) and answers their outcomes. */
async function runQueued(t: TestTandem): Promise<string[]> {
  const jobs = await deliverJobs(t);
  await clearJobs(t);
  const out: string[] = [];
  for (const j of jobs) out.push((await t.services.webhooks.deliver(j.payload)).result);
  return out;
}

describe('webhook delivery to a local receiver', () => {
  const clock = new FakeClock(new Date());
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let rx: Receiver;

  beforeAll(async () => {
    t = await createTestTandem({ clock, config: { outboundAllowPrivate: ['127.0.0.1/32'] } });
    ws = await t.workspace();
    rx = await receiver();
  });
  afterAll(async () => {
    await rx.close();
    await t.close();
  });
  beforeEach(async () => {
    clock.set(new Date());
    rx.received.length = 0;
    rx.answers.length = 0;
    await clearJobs(t);
    await sql`DELETE FROM webhook_endpoints`.execute(t.services.db);
  });

  async function endpoint(eventTypes: string[] = ['*']) {
    return t.services.webhooks.create(ws.workspaceId, { url: rx.url, eventTypes });
  }

  async function emit(type: string, data: object): Promise<string | null> {
    return t.services.db.transaction().execute((tx) => t.services.webhooks.emit(tx, ws.workspaceId, type, data));
  }

  it('signs so that the standardwebhooks library verifies it, and refuses a tampered body or a stale timestamp', async () => {
    const ep = await endpoint(['consent.changed']);
    const id = await emit('consent.changed', { personId: 'p-1', email: 'ann@example.com', optedOut: true });
    expect(await runQueued(t)).toEqual(['delivered']);
    expect(rx.received).toHaveLength(1);
    const got = rx.received[0]!;
    expect(got.headers['webhook-id']).toBe(id);
    expect(got.headers['content-type']).toBe('application/json');
    const wh = new Webhook(ep.secret);
    expect(wh.verify(got.body, got.headers)).toEqual({
      type: 'consent.changed', timestamp: clock.now().toISOString(), data: { personId: 'p-1', email: 'ann@example.com', optedOut: true },
    });
    // One byte changed in the body, or another endpoint's secret: refused.
    expect(() => wh.verify(got.body.replace('"optedOut":true', '"optedOut":false'), got.headers)).toThrow(WebhookVerificationError);
    const other = await endpoint(['message.sent']);
    expect(() => new Webhook(other.secret).verify(got.body, got.headers)).toThrow(WebhookVerificationError);

    // An attempt signed six minutes ago (the clock behind): the library refuses it as too old.
    await emit('consent.changed', { personId: 'p-2' });
    clock.set(new Date(Date.now() - 6 * 60_000));
    expect(await runQueued(t)).toEqual(['delivered']);
    const stale = rx.received[1]!;
    expect(Number(stale.headers['webhook-timestamp'])).toBeLessThan(Date.now() / 1000 - 300);
    expect(() => wh.verify(stale.body, stale.headers)).toThrow(/too old/i);
  });

  it('retries a failure with the same webhook-id on its own schedule, and records every attempt', async () => {
    const ep = await endpoint(['message.sent']);
    rx.answers.push(500, 503);
    const id = await emit('message.sent', { messageId: 'm-1' });
    const start = clock.now();

    expect(await runQueued(t)).toEqual(['retry']);
    let [next] = await deliverJobs(t);
    expect(next?.payload.attempt).toBe(2);
    // 5 s ± 20% after the failure.
    const delay = next!.run_at.getTime() - start.getTime();
    expect(delay).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[0]! * 0.8);
    expect(delay).toBeLessThanOrEqual(RETRY_DELAYS_MS[0]! * 1.2);

    clock.advance(delay);
    expect(await runQueued(t)).toEqual(['retry']);
    [next] = await deliverJobs(t);
    expect(next?.payload.attempt).toBe(3);
    clock.advance(next!.run_at.getTime() - clock.now().getTime());
    expect(await runQueued(t)).toEqual(['delivered']);

    expect(rx.received.map((r) => r.headers['webhook-id'])).toEqual([id, id, id]);
    // The same body every time; each attempt carries its own timestamp (signed anew).
    expect(new Set(rx.received.map((r) => r.body)).size).toBe(1);
    const stamps = rx.received.map((r) => Number(r.headers['webhook-timestamp']));
    expect(new Set(stamps).size).toBe(3);
    // The first two are within the library's 5-minute window of the real time; the third is ~5 min ahead.
    const wh = new Webhook(ep.secret);
    for (const r of rx.received.slice(0, 2)) expect(() => wh.verify(r.body, r.headers)).not.toThrow();

    const res = await t.app.inject({ method: 'GET', url: `/api/webhooks/endpoints/${ep.id}/messages`, headers: { authorization: bearer(ws.appApiKey) } });
    expect(res.statusCode).toBe(200);
    const [m] = (res.json<{ messages: Array<{ id: string; status: string; attempts: Array<{ attempt: number; httpStatus: number | null; error: string | null }> }> }>()).messages;
    expect(m).toMatchObject({ id, status: 'delivered' });
    expect(m?.attempts.map((a) => [a.attempt, a.httpStatus])).toEqual([[1, 500], [2, 503], [3, 204]]);
    expect(m?.attempts[0]?.error).toBe('HTTP 500: status 500');
  });

  it('a duplicate job for an attempt already made does nothing', async () => {
    await endpoint(['message.delivered']);
    await emit('message.delivered', { messageId: 'm-dup' });
    const [job] = await deliverJobs(t);
    expect(await t.services.webhooks.deliver(job!.payload)).toMatchObject({ result: 'delivered' });
    expect(await t.services.webhooks.deliver(job!.payload)).toEqual({ result: 'skipped' });
    expect(rx.received).toHaveLength(1);
  });

  it('gives up after the last attempt of the schedule (about three days)', async () => {
    const ep = await endpoint(['message.failed']);
    rx.answers.push(...Array.from({ length: RETRY_DELAYS_MS.length + 1 }, () => 500));
    const id = await emit('message.failed', { messageId: 'm-2' });
    const start = clock.now().getTime();
    const results: string[] = [];
    for (;;) {
      const [job] = await deliverJobs(t);
      if (!job) break;
      clock.set(job.run_at);
      results.push(...await runQueued(t));
    }
    expect(results).toEqual([...RETRY_DELAYS_MS.map(() => 'retry'), 'failed']);
    const hours = (clock.now().getTime() - start) / 3_600_000;
    expect(hours).toBeGreaterThan(0.8 * 71.5);
    expect(hours).toBeLessThan(1.2 * 71.6);
    expect(new Set(rx.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([id]));
    const [m] = await t.services.webhooks.messages(ws.workspaceId, ep.id);
    expect(m).toMatchObject({ status: 'failed', nextAttemptAt: null });
    expect(m?.attempts).toHaveLength(RETRY_DELAYS_MS.length + 1);
  });

  it('410 Gone disables the endpoint at once: no retry, and nothing more is sent to it', async () => {
    const ep = await endpoint(['message.bounced']);
    rx.answers.push(410);
    await emit('message.bounced', { messageId: 'm-3' });
    await emit('message.bounced', { messageId: 'm-4' });
    expect(await runQueued(t)).toEqual(['disabled', 'skipped']);
    expect(rx.received).toHaveLength(1);
    expect(await deliverJobs(t)).toEqual([]);
    expect(await t.services.webhooks.get(ws.workspaceId, ep.id)).toMatchObject({
      status: 'disabled', disabledReason: 'The endpoint answered 410 Gone.', disabledAt: clock.now(),
    });
    // A disabled endpoint gets no new messages; re-enabled, it does.
    expect(await emit('message.bounced', { messageId: 'm-5' })).toBeNull();
    await t.services.webhooks.update(ws.workspaceId, ep.id, { status: 'active' });
    expect(await emit('message.bounced', { messageId: 'm-6' })).toMatch(/^msg_/);
    expect(await runQueued(t)).toEqual(['delivered']);
  });

  it('a redirect is not followed: it is a failure like any other non-2xx', async () => {
    await endpoint(['message.opened']);
    rx.answers.push(302);
    await emit('message.opened', { messageId: 'm-7' });
    expect(await runQueued(t)).toEqual(['retry']);
    expect(rx.received).toHaveLength(1);
  });

  it('runs under the worker: emit in a transaction, delivered by webhooks:deliver', async () => {
    const w = await createTestTandem({ worker: true, config: { outboundAllowPrivate: ['127.0.0.1/32'] } });
    try {
      const wws = await w.workspace();
      const ep = await w.services.webhooks.create(wws.workspaceId, { url: rx.url, eventTypes: ['message.clicked'] });
      // Rolled back: no event.
      await expect(w.services.db.transaction().execute(async (tx) => {
        await w.services.webhooks.emit(tx, wws.workspaceId, 'message.clicked', { messageId: 'rolled-back' });
        throw new Error('rollback');
      })).rejects.toThrow('rollback');
      const id = await w.services.db.transaction().execute((tx) => w.services.webhooks.emit(tx, wws.workspaceId, 'message.clicked', { messageId: 'm-8' }));
      for (let i = 0; i < 100 && rx.received.length === 0; i++) await new Promise((ok) => setTimeout(ok, 100));
      expect(rx.received.map((r) => r.headers['webhook-id'])).toEqual([id]);
      expect(new Webhook(ep.secret).verify(rx.received[0]!.body, rx.received[0]!.headers)).toMatchObject({ data: { messageId: 'm-8' } });
    } finally {
      await w.close();
    }
  });
});

describe('webhook delivery with the default config (no private addresses)', () => {
  it('refuses a loopback endpoint: 127.0.0.1 and localhost at create, a name resolving to it at delivery (net.forbidden_address)', async () => {
    const t = await createTestTandem();
    const rx = await receiver();
    try {
      const ws = await t.workspace();
      await expect(t.services.webhooks.create(ws.workspaceId, { url: rx.url, eventTypes: ['*'] }))
        .rejects.toMatchObject({ code: 'net.forbidden_address', field: 'url' });
      const named = rx.url.replace('127.0.0.1', 'localhost');
      await expect(t.services.webhooks.create(ws.workspaceId, { url: named, eventTypes: ['*'] }))
        .rejects.toMatchObject({ code: 'net.forbidden_address', field: 'url' });
      // Saved while the name was public (or stored before the check existed): delivery checks it again.
      const ep = await t.services.webhooks.create(ws.workspaceId, { url: 'https://93.184.215.14/hook', eventTypes: ['*'] });
      await t.services.db.updateTable('webhook_endpoints').set({ url: named }).where('id', '=', ep.id).execute();
      await t.services.db.transaction().execute((tx) => t.services.webhooks.emit(tx, ws.workspaceId, 'message.sent', { messageId: 'm-9' }));
      expect(await runQueued(t)).toEqual(['retry']);
      expect(rx.received).toEqual([]);
      const [m] = await t.services.webhooks.messages(ws.workspaceId, ep.id);
      expect(m?.attempts).toEqual([expect.objectContaining({ attempt: 1, httpStatus: null, errorCode: 'net.forbidden_address' })]);
      expect(m?.status).toBe('pending');
    } finally {
      await rx.close();
      await t.close();
    }
  });
});
