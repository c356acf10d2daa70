// RELIABILITY.md tests 4 and 1, for transactional email over SMTP (TANDEM_SMTP_URL to a real
// smtp-server sink):
// - a poison recipient (always 550) in a batch of 1,000 fails alone: the other 999 arrive exactly
//   once, it is `failed` with the server's reason after one attempt, and nothing is left to retry;
// - kill -9 of `tandem worker` processes during 4,000 sends (10,000 with TANDEM_RELIABILITY_SENDS),
//   new ones started: missing = 0,
//   duplicates <= the messages in flight at the kills, no message `sent` that the sink lacks.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from './harness.ts';
import { startCountingSink, type CountingSink } from './helpers/counting-sink.ts';
import { spawnTandem, type Spawned } from './helpers/process.ts';
import { noSendJobsLeft, until } from './helpers/wait.ts';
import type { Services } from '../src/services.ts';

const POISON = 'poison@example.com';

/** Inserts `n` transactional messages (and their jobs), `chunk` per transaction. */
async function enqueueMany(services: Services, ws: string, n: number, to: (i: number) => string, chunk = 500): Promise<void> {
  for (let start = 0; start < n; start += chunk) {
    await services.db.transaction().execute(async (tx) => {
      for (let i = start; i < Math.min(n, start + chunk); i++) {
        await services.delivery.enqueue(tx, ws, {
          idempotencyKey: `reliability:${i}`, source: 'transactional', channel: 'email', to: to(i), personId: null, templateId: null,
          request: { inline: { subject: 'Order {{ trigger.n }}', body: '<p>Hello, order {{ trigger.n }} shipped.</p>', from: 'Shop <shop@example.com>' }, messageData: { n: i } },
          retain: false,
        });
      }
    });
  }
}

async function statusCounts(services: Services, ws: string): Promise<Record<string, number>> {
  const rows = await services.db.selectFrom('messages').select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .where('workspace_id', '=', ws).groupBy('status').execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

async function settle(services: Services, ws: string, total: number, ms: number): Promise<Record<string, number>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const counts = await statusCounts(services, ws);
    if ((counts['sent'] ?? 0) + (counts['failed'] ?? 0) >= total) return counts;
    if (Date.now() > deadline) throw new Error(`not settled after ${ms} ms: ${JSON.stringify(counts)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a permanent 5xx recipient in a batch of 1,000', () => {
  let t: TestTandem;
  let sink: CountingSink;

  beforeAll(async () => {
    sink = await startCountingSink({ reject: (rcpt) => (rcpt === POISON ? { code: 550, message: '5.1.1 No such user here' } : undefined) });
    t = await createTestTandem({ worker: true, config: { smtpUrl: sink.url, workerConcurrency: 8 } });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('fails alone: the other 999 are delivered exactly once, it is failed with its reason, nothing retries', async () => {
    const { workspaceId: ws } = await t.workspace();
    const t0 = Date.now();
    await enqueueMany(t.services, ws, 1_000, (i) => (i === 500 ? POISON : `person-${i}@example.com`));
    const counts = await settle(t.services, ws, 1_000, 150_000);
    const seconds = (Date.now() - t0) / 1000;
    // Anything sent twice or retried would need a send job: wait until none is left, then count.
    await noSendJobsLeft(t.services.db);

    const others = [...sink.byRecipient].filter(([rcpt]) => rcpt !== POISON);
    const once = others.filter(([, n]) => n === 1).length;
    const extra = others.reduce((sum, [, n]) => sum + n - 1, 0);
    console.log(`[poison] ${seconds.toFixed(1)} s: statuses ${JSON.stringify(counts)}; sink: ${sink.byRecipient.size} recipients, ${once} exactly once, ${extra} duplicates, poison refused ${sink.rejected}×`);
    expect(counts).toEqual({ sent: 999, failed: 1 });
    expect(others).toHaveLength(999);
    expect(once).toBe(999);
    expect(sink.byRecipient.has(POISON)).toBe(false);
    expect(sink.rejected).toBe(1);

    const poison = await t.services.db.selectFrom('messages').select(['id', 'status', 'status_reason', 'attempts'])
      .where('workspace_id', '=', ws).where('to_address', '=', POISON).executeTakeFirstOrThrow();
    expect(poison).toMatchObject({ status: 'failed', attempts: 1 });
    expect(poison.status_reason).toContain('550');
    const events = await t.services.delivery.message(ws, poison.id);
    expect(events?.events.map((e) => e.type)).toEqual(['queued', 'failed']);
  }, 300_000); // minutes on a loaded machine (load 30 on two cores): the wait is on conditions
});

describe('kill -9 of worker processes during thousands of sends', () => {
  // RELIABILITY.md asks for 10,000: that takes 49-74 s alone on 2 cores (see docs/scaling.md), too
  // close to the budget inside the whole suite, so the default is 4,000 (25-50 s)
  // with the same three kills; TANDEM_RELIABILITY_SENDS=10000 runs the full figure.
  const TOTAL = Number(process.env.TANDEM_RELIABILITY_SENDS ?? 4_000);
  const CONCURRENCY = 8;
  let t: TestTandem;
  let sink: CountingSink;
  const workers: Spawned[] = [];

  beforeAll(async () => {
    sink = await startCountingSink();
    t = await createTestTandem();
  });
  afterAll(async () => {
    for (const w of workers) await w.stop('SIGKILL', 5_000).catch(() => undefined);
    await t?.close();
    await sink?.close();
  });

  /** Each worker's sessions carry its name (application_name), so a test can tell when they are gone. */
  const env = (name: string) => ({
    DATABASE_URL: `${t.databaseUrl}${t.databaseUrl.includes('?') ? '&' : '?'}application_name=${name}`, TANDEM_SMTP_URL: sink.url, LOG_LEVEL: 'warn',
    // A live worker starved of CPU on a loaded machine must not be taken for dead (its jobs would run
    // twice beyond the bound this test checks): 2 s heartbeats, 20 s to death. Recovery of the killed
    // ones then takes up to 20 s each, which the test waits on.
    TANDEM_WORKER_CONCURRENCY: String(CONCURRENCY), TANDEM_WORKER_HEARTBEAT_MS: '2000', TANDEM_WORKER_DEAD_AFTER_MS: '20000',
  });

  const sessions = async (name: string) => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = ${name}`.execute(t.services.db)).rows[0]?.n ?? 0;
  let started = 0;

  /** Starts `tandem worker`; resolves with its graphile worker ids once its heartbeat lists them all. */
  async function startWorker(): Promise<{ p: Spawned; ids: string[]; name: string }> {
    const name = `reliability-worker-${++started}`;
    const p = spawnTandem(['worker'], env(name));
    workers.push(p);
    const deadline = Date.now() + 45_000;
    for (;;) {
      const row = await t.services.db.selectFrom('worker_heartbeats').select('worker_ids').where('pid', '=', p.pid).executeTakeFirst();
      // Its sessions are visible by name: kill() below can wait for them to end.
      if (row && row.worker_ids.length === CONCURRENCY && await sessions(name) > 0) return { p, ids: row.worker_ids, name };
      if (p.child.exitCode !== null || Date.now() > deadline) throw new Error(`tandem worker did not start\n${p.stderr()}\n${p.stdout()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * kill -9, then the messages it had in flight: claimed (`sending`) under the lease of a job its
   * workers held (a send job claims a batch: its own message and others, all under 'job:<id>').
   * Counted once PostgreSQL has ended the dead process's sessions (so its last transactions are
   * settled, not half-way), long before the survivors unlock those jobs (20 s dead-after).
   */
  async function kill(w: { p: Spawned; ids: string[]; name: string }): Promise<number> {
    w.p.child.kill('SIGKILL');
    await w.p.exited;
    await until(async () => await sessions(w.name) === 0, 'the killed worker\'s database sessions to end');
    const r = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM messages m JOIN graphile_worker.jobs j ON m.lease = 'job:' || j.id
      WHERE m.status = 'sending' AND j.locked_by = ANY(${w.ids}::text[])`.execute(t.services.db);
    return r.rows[0]?.n ?? 0;
  }

  it('missing = 0, duplicates <= in flight at the kills, never `sent` without the sink having it', async () => {
    const { workspaceId: ws } = await t.workspace();
    const t0 = Date.now();
    // Everything is queued before the workers start: sending outpaces this enqueueing (1,000 per
    // transaction), and a kill must find the victim with a backlog in flight.
    await enqueueMany(t.services, ws, TOTAL, (i) => `person-${i}@example.com`, 1_000);
    const live = await Promise.all([startWorker(), startWorker()]);

    // Kill the oldest worker at 20%, 45% and 70% of the messages, starting a new one each time.
    const inFlight: number[] = [];
    for (const share of [0.2, 0.45, 0.7]) {
      while (sink.byMessage.size < TOTAL * share) {
        if (Date.now() - t0 > 300_000) throw new Error(`only ${sink.byMessage.size} delivered`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const victim = live.shift()!;
      inFlight.push(await kill(victim));
      live.push(await startWorker());
    }

    const counts = await settle(t.services, ws, TOTAL, 300_000);
    await noSendJobsLeft(t.services.db); // a late copy would need a send job
    const ids = (await t.services.db.selectFrom('messages').select(['id', 'status']).where('workspace_id', '=', ws).execute());
    const missing = ids.filter((m) => !sink.byMessage.has(m.id)).length;
    const duplicates = [...sink.byMessage.values()].reduce((sum, n) => sum + n - 1, 0);
    const sentNotReceived = ids.filter((m) => m.status === 'sent' && !sink.byMessage.has(m.id)).length;
    const bound = inFlight.reduce((a, b) => a + b, 0);
    console.log(`[kill -9] ${TOTAL} messages in ${((Date.now() - t0) / 1000).toFixed(1)} s, 3 kills with ${inFlight.join(' + ')} = ${bound} in flight: `
      + `missing ${missing}, duplicates ${duplicates}, sent-but-not-received ${sentNotReceived}, statuses ${JSON.stringify(counts)}`);

    expect(bound).toBeGreaterThan(0); // the kills did interrupt sends, so recovery was exercised
    expect(counts).toEqual({ sent: TOTAL });
    expect(missing).toBe(0);
    expect(sentNotReceived).toBe(0);
    expect(duplicates).toBeLessThanOrEqual(bound);
    expect(sink.byMessage.size).toBe(TOTAL);
    expect([...sink.byMessage.keys()].every((id) => id.startsWith('dlv_'))).toBe(true);
  }, 480_000); // minutes on a loaded machine; each kill's recovery waits out the 20 s to death
});
