// The batch send job against a real PostgreSQL and an SMTP sink, its job runs called here (no worker):
// a run takes its own message and the due ones, leaves later ones, drops only jobs no worker took,
// never takes a message another run holds, and takes back its own after a crash.
import type { JobHelpers } from 'graphile-worker';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, FakeClock, type TestTandem } from '../../../test/harness.ts';
import { startCountingSink, type CountingSink } from '../../../test/helpers/counting-sink.ts';
import { SEND_TASK } from './index.ts';

describe('the batch send job', () => {
  const clock = new FakeClock(new Date('2026-05-04T09:00:00Z'));
  let t: TestTandem;
  let sink: CountingSink;
  let ws: string;
  let n = 0;

  beforeAll(async () => {
    sink = await startCountingSink();
    t = await createTestTandem({ clock, config: { smtpUrl: sink.url } });
    ws = (await t.workspace()).workspaceId;
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  async function enqueue(count: number, runAt?: Date): Promise<string[]> {
    return t.services.db.transaction().execute(async (tx) => {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const { message } = await t.services.delivery.enqueue(tx, ws, {
          idempotencyKey: `batch-test:${n++}`, source: 'transactional', channel: 'email', to: `p${n}@example.com`, personId: null,
          templateId: null, request: { inline: { subject: 'Hi', body: '<p>Hello <a href="https://example.com/x">there</a></p>' } }, retain: true,
          ...(runAt ? { runAt } : {}),
        });
        ids.push(message.id);
      }
      return ids;
    });
  }

  const jobOf = async (id: string) => (await sql<{ id: string; attempts: number }>`
    SELECT id::text, attempts FROM graphile_worker.jobs WHERE key = ${`send:${ws}:${id}`}`.execute(t.services.db)).rows[0];
  const run = (messageId: string, jobId: string) =>
    (t.services.delivery.tasks()[SEND_TASK] as (p: unknown, h: JobHelpers) => Promise<void>)({ workspaceId: ws, messageId }, { job: { id: jobId } } as JobHelpers);
  const statuses = async (ids: string[]) => Object.fromEntries((await t.services.db.selectFrom('messages').select(['id', 'status'])
    .where('workspace_id', '=', ws).where('id', 'in', ids).execute()).map((r) => [r.id, r.status]));

  it('sends its own message and the due ones (not later ones), each once, and drops their waiting jobs', async () => {
    const [a, b, c] = await enqueue(3);
    const [later] = await enqueue(1, new Date(clock.now().getTime() + 3_600_000));
    const jobA = await jobOf(a!);
    await run(a!, jobA!.id);
    expect(await statuses([a!, b!, c!, later!])).toEqual({ [a!]: 'sent', [b!]: 'sent', [c!]: 'sent', [later!]: 'queued' });
    expect([a, b, c].map((id) => sink.byMessage.get(id!))).toEqual([1, 1, 1]);
    // B's and C's jobs had nothing left to do; A's is completed by graphile-worker after the run; the later one waits.
    expect(await jobOf(b!)).toBeUndefined();
    expect(await jobOf(c!)).toBeUndefined();
    expect(await jobOf(later!)).toBeDefined();
    const m = await t.services.delivery.message(ws, b!);
    expect(m?.events.map((e) => e.type)).toEqual(['queued', 'sent']);
    expect(m).toMatchObject({ attempts: 1, html: expect.stringContaining('/c/') as unknown });
    const links = await t.services.db.selectFrom('tracking_links').select('url').where('workspace_id', '=', ws).where('message_id', '=', b!).execute();
    expect(links.map((l) => l.url)).toEqual(['https://example.com/x']);
    await t.services.db.deleteFrom('messages').where('workspace_id', '=', ws).where('id', '=', later!).execute();
  });

  it('leaves a message another run holds, and a run takes back what it claimed before a crash', async () => {
    const [held, mine, own] = await enqueue(3);
    // As a run killed mid-batch leaves them: `sending` under its lease.
    await t.services.db.updateTable('messages').set({ status: 'sending', lease: 'job:999001', attempts: 1 })
      .where('workspace_id', '=', ws).where('id', '=', held!).execute();
    await t.services.db.updateTable('messages').set({ status: 'sending', lease: 'job:999002', attempts: 1 })
      .where('workspace_id', '=', ws).where('id', '=', mine!).execute();
    await run(own!, '999002');
    expect(await statuses([held!, mine!, own!])).toEqual({ [held!]: 'sending', [mine!]: 'sent', [own!]: 'sent' });
    expect(sink.byMessage.has(held!)).toBe(false);
    await run(held!, '999001');
    expect(await statuses([held!])).toEqual({ [held!]: 'sent' });
    expect([held, mine, own].map((id) => sink.byMessage.get(id!))).toEqual([1, 1, 1]);
    expect((await t.services.delivery.message(ws, mine!))?.attempts).toBe(2);
  });

  it('never drops a job a worker has taken (it may hold a batch of its own)', async () => {
    const [first, taken] = await enqueue(2);
    const takenJob = await jobOf(taken!);
    await sql`UPDATE graphile_worker._private_jobs SET attempts = 1 WHERE id = ${takenJob!.id}::bigint`.execute(t.services.db);
    await run(first!, (await jobOf(first!))!.id);
    expect(await statuses([taken!])).toEqual({ [taken!]: 'sent' });
    expect(await jobOf(taken!)).toMatchObject({ id: takenJob!.id });
    // Its run finds its message sent and sends nothing again.
    await run(taken!, takenJob!.id);
    expect(sink.byMessage.get(taken!)).toBe(1);
  });

  it('concurrent runs take different messages: 300 queued, 6 runs at once, each sent once', async () => {
    const ids = await enqueue(300);
    const leaders = ids.slice(0, 6);
    const jobs = await Promise.all(leaders.map((id) => jobOf(id)));
    await Promise.all(leaders.map((id, i) => run(id, jobs[i]!.id)));
    // 6 runs of at most 51 cover 300 only if none took a message twice; the rest go in later runs.
    for (let round = 0; round < 10; round++) {
      const left = (await t.services.db.selectFrom('messages').select('id').where('workspace_id', '=', ws).where('status', '=', 'queued').execute());
      if (left.length === 0) break;
      await Promise.all(left.slice(0, 6).map(async (m) => run(m.id, (await jobOf(m.id))?.id ?? `9${round}${m.id.slice(-4)}`)));
    }
    expect(Object.values(await statuses(ids)).every((s) => s === 'sent')).toBe(true);
    expect(ids.map((id) => sink.byMessage.get(id)).every((c) => c === 1)).toBe(true);
  });
});
