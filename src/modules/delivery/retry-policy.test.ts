// The documented retry policy (docs/delivery.md), end to end against a local HTTP server playing the
// provider, on a fake clock: exactly 8 attempts then `failed`; back-off 10 s, 20 s, 40 s … ±20%, capped at
// an hour; a 429's or 503's Retry-After wins; a permanent answer is not retried. And the Idempotency-Key
// window: the same key within 24 h answers the same and sends once, after 24 h it is a new send.
// The figures are written out here, not imported: a test that read MAX_ATTEMPTS would follow a bug.
import type { JobHelpers } from 'graphile-worker';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, FakeClock, type TestTandem } from '../../../test/harness.ts';
import { fakeServer, type FakeServer, type Reply } from './providers/test-server.ts';
import { backoffMs, SEND_TASK } from './index.ts';

const DOCUMENTED_ATTEMPTS = 8;
const SECOND = 1000;

let t: TestTandem;
let api: FakeServer;
let ws: string;
const clock = new FakeClock(new Date('2026-06-01T08:00:00Z'));
/** What the provider answers next (then 200 with an id). */
const script: Reply[] = [];
let accepted = 0;

beforeAll(async () => {
  api = await fakeServer(() => script.shift() ?? { status: 200, body: { MessageID: `pm-${++accepted}`, ErrorCode: 0, Message: 'OK' } });
  t = await createTestTandem({ clock, providerDeps: { baseUrl: api.baseUrl } });
  ws = (await t.workspace('Retries')).workspaceId;
  await t.services.senders.create(ws, { name: 'pm', channel: 'email', config: { kind: 'postmark', serverToken: 'server-token' }, isDefault: true, ratePerSecond: 1000, concurrency: 5 });
});
afterAll(async () => {
  await t?.close();
  await api?.close();
});

let n = 0;
async function enqueue(key?: string, to = `r${++n}@example.com`): Promise<string> {
  const answer = await t.services.transactional.send(ws, { channel: 'email', to, subject: 'Hi', body: '<p>Hello</p>', from: 'shop@example.com' }, key);
  return answer.delivery_id;
}

/** One attempt: runs the job that is due for the message, as the worker would. */
async function attempt(id: string): Promise<void> {
  await (t.services.delivery.tasks()[SEND_TASK] as (p: unknown, h: JobHelpers) => Promise<void>)({ workspaceId: ws, messageId: id }, { job: { id: `${Date.now()}` } } as JobHelpers);
}

async function state(id: string): Promise<{ status: string; attempts: number; reason: string | null; retryAt: Date | undefined }> {
  const m = await t.services.db.selectFrom('messages').select(['status', 'attempts', 'status_reason']).where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirstOrThrow();
  const job = (await sql<{ run_at: Date }>`SELECT run_at FROM graphile_worker.jobs WHERE key = ${`send:${ws}:${id}:retry${m.attempts}`}`.execute(t.services.db)).rows[0];
  return { status: m.status, attempts: m.attempts, reason: m.status_reason, retryAt: job?.run_at };
}

const requestsFor = (to: string) => api.requests.filter((r) => r.body.toString('utf8').includes(to)).length;

describe('the retry policy', () => {
  it('backs off 10 s, 20 s, 40 s … with ±20% jitter, capped at an hour', () => {
    const base = [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600].map((s) => s * SECOND);
    base.forEach((ms, i) => {
      expect(backoffMs(i + 1, () => 0.5)).toBe(ms);
      expect(backoffMs(i + 1, () => 0)).toBe(Math.round(ms * 0.8));
      expect(backoffMs(i + 1, () => 1)).toBe(Math.round(ms * 1.2));
    });
    expect(backoffMs(40, () => 0.5)).toBe(3600 * SECOND);
  });

  it(`makes exactly ${DOCUMENTED_ATTEMPTS} attempts on a provider that keeps failing, on the back-off schedule, then fails the message`, async () => {
    const to = 'always-down@example.com';
    const id = await enqueue(undefined, to);
    const delays: number[] = [];
    for (let k = 1; k <= DOCUMENTED_ATTEMPTS; k++) {
      script.push({ status: 500, body: { ErrorCode: 500, Message: 'Internal error' } });
      await attempt(id);
      const s = await state(id);
      expect(s.attempts).toBe(k);
      if (k < DOCUMENTED_ATTEMPTS) {
        expect(s.status).toBe('retrying');
        expect(s.retryAt, `attempt ${k} schedules the next`).toBeDefined();
        const delay = s.retryAt!.getTime() - clock.now().getTime();
        delays.push(delay);
        const base = Math.min(10 * SECOND * 2 ** (k - 1), 3600 * SECOND);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
        expect(delay).toBeLessThanOrEqual(Math.ceil(base * 1.2));
        clock.set(s.retryAt!);
      } else {
        expect(s.status).toBe('failed');
        expect(s.reason).toMatch(new RegExp(`gave up after ${DOCUMENTED_ATTEMPTS} attempts`));
        expect(s.retryAt).toBeUndefined();
      }
    }
    expect(requestsFor(to)).toBe(DOCUMENTED_ATTEMPTS);
    // A failed message is not taken again by a stray run.
    await attempt(id);
    expect(requestsFor(to)).toBe(DOCUMENTED_ATTEMPTS);
    process.stdout.write(`retry delays (s): ${delays.map((d) => (d / SECOND).toFixed(1)).join(', ')}\n`);
  });

  it.each([
    ['429 with delay-seconds', { status: 429, headers: { 'retry-after': '600' }, body: { ErrorCode: 429, Message: 'Rate limit' } }, 600 * SECOND],
    ['503 with delay-seconds', { status: 503, headers: { 'retry-after': '900' }, body: 'maintenance' }, 900 * SECOND],
    ['503 with an HTTP date', { status: 503, headers: { 'retry-after': 'DATE+1200' }, body: 'maintenance' }, 1200 * SECOND],
  ] as const)('honours Retry-After from a %s (not the 10 s back-off), then sends', async (_, reply, wanted) => {
    const to = `retry-after-${wanted}@example.com`;
    const id = await enqueue(undefined, to);
    // An HTTP date is read against the wall clock (the provider's), and has whole seconds.
    const headers = { 'retry-after': reply.headers['retry-after'].replace(/^DATE\+(\d+)$/, (_m, s: string) => new Date(Date.now() + Number(s) * SECOND).toUTCString()) };
    script.push({ ...reply, headers });
    await attempt(id);
    const s = await state(id);
    const before = clock.now().getTime();
    // The time asked passes first (the sender was slowed down for that long in this process too), so
    // that a failure below leaves no pause behind for the next test.
    clock.set(new Date(Math.max(s.retryAt?.getTime() ?? before, before + wanted)));
    expect(s).toMatchObject({ status: 'retrying', attempts: 1 });
    const delay = s.retryAt!.getTime() - before;
    expect(delay).toBeLessThanOrEqual(wanted);
    expect(delay).toBeGreaterThan(wanted - (reply.headers['retry-after'].startsWith('DATE') ? 5 * SECOND : 1));
    await attempt(id);
    expect((await state(id)).status).toBe('sent');
    expect(requestsFor(to)).toBe(2);
  });

  it('does not retry a permanent answer', async () => {
    const to = 'bad-address@example.com';
    const id = await enqueue(undefined, to);
    script.push({ status: 422, body: { ErrorCode: 300, Message: 'Invalid email request' } });
    await attempt(id);
    expect(await state(id)).toMatchObject({ status: 'failed', attempts: 1, retryAt: undefined });
    expect(requestsFor(to)).toBe(1);
  });
});

describe('the Idempotency-Key window (24 hours)', () => {
  it('answers the same and sends once within 24 h; after 24 h the same key is a new send', async () => {
    const to = 'idem@example.com';
    const first = await enqueue('order-42', to);
    await attempt(first);
    clock.advance(23 * 3600 * SECOND + 59 * 60 * SECOND);
    const again = await enqueue('order-42', to);
    expect(again).toBe(first);
    await attempt(again);
    expect(requestsFor(to)).toBe(1);

    clock.advance(2 * 60 * SECOND); // 24 h 1 min after the first
    const later = await enqueue('order-42', to);
    expect(later).not.toBe(first);
    await attempt(later);
    expect((await state(later)).status).toBe('sent');
    expect(requestsFor(to)).toBe(2);
    // And the new answer is the one that stands for the next 24 h.
    expect(await enqueue('order-42', to)).toBe(later);
  });
});
