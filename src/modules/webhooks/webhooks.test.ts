// Endpoints over HTTP (in-process), emit() fan-out, the signature and the retry schedule.
import { createHmac } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';
import { MAX_ATTEMPTS, nextAttemptAt, RETRY_DELAYS_MS } from './schedule.ts';
import { newSecret, signPayload } from './signature.ts';

// Vitest's asymmetric matchers are typed `any`; these keep the expectations typed.
const matching = (re: RegExp): unknown => expect.stringMatching(re);
const STR: unknown = expect.any(String);

describe('retry schedule', () => {
  it('spreads ten retries over about three days, each delay within ±20%', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(MAX_ATTEMPTS).toBe(11);
    const hours = RETRY_DELAYS_MS.reduce((a, b) => a + b, 0) / 3_600_000;
    expect(hours).toBeGreaterThan(70);
    expect(hours).toBeLessThan(74);
    RETRY_DELAYS_MS.forEach((base, i) => {
      const low = nextAttemptAt(i + 1, now, () => 0)!.getTime() - now.getTime();
      const high = nextAttemptAt(i + 1, now, () => 0.999999)!.getTime() - now.getTime();
      const mid = nextAttemptAt(i + 1, now, () => 0.5)!.getTime() - now.getTime();
      expect(low).toBe(Math.round(base * 0.8));
      expect(high).toBeCloseTo(base * 1.2, -2);
      expect(mid).toBe(base);
    });
    expect(nextAttemptAt(1, now, () => 0.5)!.getTime() - now.getTime()).toBe(5_000);
    expect(nextAttemptAt(MAX_ATTEMPTS, now)).toBeNull();
  });
});

describe('signature', () => {
  it('is v1, base64 HMAC-SHA256 of id.timestamp.body keyed with the decoded secret', () => {
    const secret = newSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(24);
    const key = Buffer.from(secret.slice(6), 'base64');
    const expected = createHmac('sha256', key).update('msg_1.1700000000.{"a":1}').digest('base64');
    expect(signPayload(secret, 'msg_1', 1700000000, '{"a":1}')).toBe(`v1,${expected}`);
  });
});

describe('webhook endpoints API and emit', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let other: CreatedWorkspace;
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, as = ws) =>
    t.app.inject({ method, url, headers: { authorization: bearer(as.appApiKey) }, ...(payload === undefined ? {} : { payload: payload as object }) });

  beforeAll(async () => {
    t = await createTestTandem();
    ws = await t.workspace('Hooks');
    other = await t.workspace('Other');
  });
  afterAll(async () => {
    await t.close();
  });

  async function create(body: Record<string, unknown>) {
    const res = await call('POST', '/api/webhooks/endpoints', body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string; secret: string; eventTypes: string[]; status: string }>();
  }

  it('creates an endpoint with a whsec_ secret shown once; reads, lists, changes and deletes it', async () => {
    const created = await create({ url: 'https://hooks.example.com/tandem', description: 'CRM', eventTypes: ['consent.changed', 'message.sent', 'consent.changed'] });
    expect(created).toEqual({
      id: matching(/^wep_[0-9a-f]{20}$/), url: 'https://hooks.example.com/tandem', description: 'CRM',
      eventTypes: ['consent.changed', 'message.sent'], status: 'active', disabledReason: null, disabledAt: null,
      createdAt: STR, updatedAt: STR, secret: matching(/^whsec_/),
    });
    const got = await call('GET', `/api/webhooks/endpoints/${created.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).not.toHaveProperty('secret');
    expect(got.body).not.toContain(created.secret);

    const patched = await call('PATCH', `/api/webhooks/endpoints/${created.id}`, { eventTypes: ['*', 'message.sent'], status: 'disabled' });
    expect(patched.json()).toMatchObject({ eventTypes: ['*'], status: 'disabled', disabledReason: 'Disabled through the API.' });
    const enabled = await call('PATCH', `/api/webhooks/endpoints/${created.id}`, { status: 'active' });
    expect(enabled.json()).toMatchObject({ status: 'active', disabledReason: null, disabledAt: null });

    const rotated = await call('POST', `/api/webhooks/endpoints/${created.id}/rotate-secret`);
    expect(rotated.statusCode).toBe(200);
    const newSecretValue = (rotated.json<{ secret: string }>()).secret;
    expect(newSecretValue).toMatch(/^whsec_/);
    expect(newSecretValue).not.toBe(created.secret);

    // The other workspace sees none of it.
    expect((await call('GET', `/api/webhooks/endpoints/${created.id}`, undefined, other)).statusCode).toBe(404);
    expect((await call('DELETE', `/api/webhooks/endpoints/${created.id}`, undefined, other)).statusCode).toBe(404);
    expect((await call('GET', '/api/webhooks/endpoints', undefined, other)).json()).toEqual({ endpoints: [], next: null });

    expect((await call('DELETE', `/api/webhooks/endpoints/${created.id}`)).statusCode).toBe(204);
    expect((await call('GET', `/api/webhooks/endpoints/${created.id}`)).json()).toMatchObject({ error: { code: 'webhook.endpoint_not_found', field: 'id' } });
  });

  it('pages the list oldest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await create({ url: `https://e${i}.example.com/`, eventTypes: ['*'] })).id);
    const first = (await call('GET', '/api/webhooks/endpoints?limit=2')).json<{ endpoints: Array<{ id: string }>; next: string }>();
    const second = (await call('GET', `/api/webhooks/endpoints?limit=2&after=${first.next}`)).json<{ endpoints: Array<{ id: string }>; next: string | null }>();
    const all = [...first.endpoints, ...second.endpoints].map((e) => e.id);
    expect(all.filter((id) => ids.includes(id))).toEqual(ids);
    expect(second.next).toBeNull();
    for (const id of ids) await call('DELETE', `/api/webhooks/endpoints/${id}`);
  });

  it('refuses bad input with a stable code and the field', async () => {
    const bad = async (body: unknown, code: string, field: string) => {
      const res = await call('POST', '/api/webhooks/endpoints', body);
      expect(res.statusCode, JSON.stringify(body)).toBeLessThan(500);
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.json()).toMatchObject({ error: { code, field } });
    };
    await bad({ url: 'https://x.example.com', eventTypes: ['message.sent', 'message.teleported'] }, 'webhook.unknown_event_type', 'eventTypes[1]');
    await bad({ url: 'https://x.example.com', eventTypes: [] }, 'request.invalid', 'eventTypes');
    await bad({ url: 'ftp://x.example.com', eventTypes: ['*'] }, 'net.bad_url', 'url');
    await bad({ url: 'not a url', eventTypes: ['*'] }, 'net.bad_url', 'url');
    await bad({ url: 'http://169.254.169.254/latest', eventTypes: ['*'] }, 'net.forbidden_address', 'url');
    await bad({ url: 'http://[::1]:8080/', eventTypes: ['*'] }, 'net.forbidden_address', 'url');
    await bad({ url: 'http://10.0.0.7/', eventTypes: ['*'] }, 'net.forbidden_address', 'url');
    await bad({ url: 'https://x.example.com', eventTypes: ['*'], secret: 'mine' }, 'request.invalid', 'body');
    const ep = await create({ url: 'https://x.example.com/', eventTypes: ['*'] });
    const res = await call('PATCH', `/api/webhooks/endpoints/${ep.id}`, { url: 'http://127.0.0.1/' });
    expect(res.json()).toMatchObject({ error: { code: 'net.forbidden_address', field: 'url' } });
    expect((await call('GET', '/api/webhooks/endpoints/wep_nope')).statusCode).toBe(404);
    await call('DELETE', `/api/webhooks/endpoints/${ep.id}`);
  });

  it('emit fans out to active subscribed endpoints only, inside the caller\'s transaction', async () => {
    const consent = await create({ url: 'https://a.example.com/', eventTypes: ['consent.changed'] });
    const all = await create({ url: 'https://b.example.com/', eventTypes: ['*'] });
    const sent = await create({ url: 'https://c.example.com/', eventTypes: ['message.sent'] });
    const off = await create({ url: 'https://d.example.com/', eventTypes: ['consent.changed'] });
    await call('PATCH', `/api/webhooks/endpoints/${off.id}`, { status: 'disabled' });
    await sql`DELETE FROM graphile_worker._private_jobs`.execute(t.services.db);

    const id = await t.services.db.transaction().execute((tx) =>
      t.services.webhooks.emit(tx, ws.workspaceId, 'consent.changed', { personId: 'p-1', optedOut: true }));
    expect(id).toMatch(/^msg_[0-9a-f]{24}$/);
    const jobs = await sql<{ payload: { endpointId: string; messageId: string; attempt: number } }>`SELECT j.payload FROM graphile_worker._private_jobs j`.execute(t.services.db);
    expect(jobs.rows.map((r) => r.payload.endpointId).sort()).toEqual([consent.id, all.id].sort());
    expect(jobs.rows.every((r) => r.payload.messageId === id && r.payload.attempt === 1)).toBe(true);

    // Pending messages are listed with their payload.
    const listed = (await call('GET', `/api/webhooks/endpoints/${all.id}/messages`)).json<{ messages: unknown[] }>();
    expect(listed.messages).toEqual([expect.objectContaining({
      id, type: 'consent.changed', status: 'pending', attempts: [],
      payload: { type: 'consent.changed', timestamp: STR, data: { personId: 'p-1', optedOut: true } },
    })]);
    expect(((await call('GET', `/api/webhooks/endpoints/${sent.id}/messages`)).json<{ messages: unknown[] }>()).messages).toEqual([]);

    // No subscriber: nothing stored. Unknown type: a programming error.
    expect(await t.services.webhooks.emit(t.services.db, other.workspaceId, 'consent.changed', {})).toBeNull();
    await expect(t.services.webhooks.emit(t.services.db, ws.workspaceId, 'consent.chnaged', {})).rejects.toThrow(/unknown event type/);
    const stored = await t.services.db.selectFrom('webhook_messages').select('id').where('workspace_id', '=', other.workspaceId).execute();
    expect(stored).toEqual([]);
    for (const e of [consent, all, sent, off]) await call('DELETE', `/api/webhooks/endpoints/${e.id}`);
  });

  it('POST /test sends webhook.test to that endpoint only; a disabled endpoint is refused', async () => {
    const a = await create({ url: 'https://a.example.com/', eventTypes: ['message.sent'] });
    const b = await create({ url: 'https://b.example.com/', eventTypes: ['*'] });
    const res = await call('POST', `/api/webhooks/endpoints/${a.id}/test`);
    expect(res.statusCode).toBe(202);
    const { messageId } = res.json<{ messageId: string }>();
    const aMessages = (await call('GET', `/api/webhooks/endpoints/${a.id}/messages`)).json<{ messages: Array<{ id: string; type: string }> }>();
    expect(aMessages.messages.map((m) => [m.id, m.type])).toEqual([[messageId, 'webhook.test']]);
    expect(((await call('GET', `/api/webhooks/endpoints/${b.id}/messages`)).json<{ messages: unknown[] }>()).messages).toEqual([]);

    await call('PATCH', `/api/webhooks/endpoints/${a.id}`, { status: 'disabled' });
    expect((await call('POST', `/api/webhooks/endpoints/${a.id}/test`)).json()).toMatchObject({ error: { code: 'webhook.endpoint_disabled', field: 'id' } });
    for (const e of [a, b]) await call('DELETE', `/api/webhooks/endpoints/${e.id}`);
  });

  it('deleting an endpoint drops its pending deliveries (their jobs then do nothing)', async () => {
    const ep = await create({ url: 'https://a.example.com/', eventTypes: ['message.sent'] });
    await sql`DELETE FROM graphile_worker._private_jobs`.execute(t.services.db);
    await t.services.webhooks.emit(t.services.db, ws.workspaceId, 'message.sent', { messageId: 'm' });
    const [job] = (await sql<{ payload: { workspaceId: string; messageId: string; endpointId: string; attempt: number } }>`SELECT j.payload FROM graphile_worker._private_jobs j`.execute(t.services.db)).rows;
    await call('DELETE', `/api/webhooks/endpoints/${ep.id}`);
    expect(await t.services.webhooks.deliver(job!.payload)).toEqual({ result: 'skipped' });
  });
});
