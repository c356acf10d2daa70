// Crash recovery: the jobs a dead worker process left locked run again within seconds, not 4 hours;
// live processes' jobs are left alone; a clean stop removes the process's heartbeat.
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from '../../test/harness.ts';
import { until } from '../../test/helpers/wait.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { enqueueJob } from './jobs.ts';
import { createWorkerRecovery } from './recovery.ts';

const log = pino({ level: 'silent' });

/** A job as a worker `lockedBy` leaves it when killed mid-run (locked in the transaction that adds it, so no live worker takes it first). */
async function lockedJob(t: TestTandem, lockedBy: string): Promise<string> {
  return t.services.db.transaction().execute(async (tx) => {
    await enqueueJob(tx, 'delivery:purge_idempotency', {}, { jobKey: `recovery-test:${lockedBy}` });
    const row = await sql<{ id: string }>`
      UPDATE graphile_worker._private_jobs SET locked_at = now() - interval '10 seconds', locked_by = ${lockedBy}
      WHERE key = ${`recovery-test:${lockedBy}`} RETURNING id::text`.execute(tx);
    return row.rows[0]!.id;
  });
}

async function heartbeat(t: TestTandem, id: string, workerIds: string[], ageSeconds: number): Promise<void> {
  await sql`INSERT INTO worker_heartbeats (id, worker_ids, hostname, pid, seen_at)
    VALUES (${id}, ${workerIds}::text[], 'elsewhere', 1, now() - make_interval(secs => ${ageSeconds}))`.execute(t.services.db);
}

async function job(t: TestTandem, id: string): Promise<{ locked_by: string | null } | undefined> {
  return (await sql<{ locked_by: string | null }>`SELECT locked_by FROM graphile_worker.jobs WHERE id = ${id}::bigint`.execute(t.services.db)).rows[0];
}

describe('worker recovery settings', () => {
  it('default to a 5 s heartbeat and 30 s to death, and refuse fewer than three heartbeats to death', () => {
    expect(loadConfig({})).toMatchObject({ workerHeartbeatMs: 5_000, workerDeadAfterMs: 30_000 });
    expect(loadConfig({ TANDEM_WORKER_HEARTBEAT_MS: '250', TANDEM_WORKER_DEAD_AFTER_MS: '1500' })).toMatchObject({ workerHeartbeatMs: 250, workerDeadAfterMs: 1_500 });
    expect(() => loadConfig({ TANDEM_WORKER_HEARTBEAT_MS: '5000', TANDEM_WORKER_DEAD_AFTER_MS: '10000' })).toThrow(ConfigError);
    expect(() => loadConfig({ TANDEM_WORKER_DEAD_AFTER_MS: '10' })).toThrow(/TANDEM_WORKER_DEAD_AFTER_MS/);
  });
});

describe('worker recovery (sweep)', () => {
  let t: TestTandem;
  beforeAll(async () => { t = await createTestTandem(); });
  afterAll(async () => { await t.close(); });

  it('unlocks the jobs of processes not seen for deadAfterMs, and only theirs', async () => {
    await heartbeat(t, 'dead-process', ['w-dead-1', 'w-dead-2'], 60);
    await heartbeat(t, 'live-process', ['w-live'], 0);
    const dead1 = await lockedJob(t, 'w-dead-1');
    const dead2 = await lockedJob(t, 'w-dead-2');
    const live = await lockedJob(t, 'w-live');

    const recovery = createWorkerRecovery(t.services.db, log, { heartbeatMs: 60_000, deadAfterMs: 30_000 });
    await recovery.start();
    expect(await recovery.sweep()).toEqual({ processes: 1, jobs: 2 });
    expect(await job(t, dead1)).toEqual({ locked_by: null });
    expect(await job(t, dead2)).toEqual({ locked_by: null });
    expect(await job(t, live)).toEqual({ locked_by: 'w-live' });
    const rows = await t.services.db.selectFrom('worker_heartbeats').select('id').orderBy('id').execute();
    expect(rows.map((r) => r.id).sort()).toEqual(['live-process', recovery.id].sort());

    // Nothing more to do the second time.
    expect(await recovery.sweep()).toEqual({ processes: 0, jobs: 0 });
    await recovery.stop();
    expect(await t.services.db.selectFrom('worker_heartbeats').select('id').where('id', '=', recovery.id).execute()).toEqual([]);
  });

  it('a process taken for dead records itself again at its next heartbeat', async () => {
    const recovery = createWorkerRecovery(t.services.db, log, { heartbeatMs: 60_000, deadAfterMs: 30_000 });
    await recovery.start();
    recovery.addWorker('w-slow');
    await recovery.beat();
    await t.services.db.deleteFrom('worker_heartbeats').where('id', '=', recovery.id).execute();
    await recovery.beat();
    const row = await t.services.db.selectFrom('worker_heartbeats').select('worker_ids').where('id', '=', recovery.id).executeTakeFirst();
    expect(row?.worker_ids).toEqual(['w-slow']);
    await recovery.stop();
  });
});

describe('worker recovery (running worker)', () => {
  let t: TestTandem;
  beforeAll(async () => {
    t = await createTestTandem({ worker: true, config: { workerConcurrency: 3, workerHeartbeatMs: 200, workerDeadAfterMs: 1_000 } });
  });
  afterAll(async () => { await t.close(); });

  it('records its worker ids, and runs a dead process\'s locked job (not after graphile-worker\'s 4 hours)', async () => {
    const ids = await until(async () => {
      const listed = (await t.services.db.selectFrom('worker_heartbeats').select('worker_ids').execute()).flatMap((r) => r.worker_ids);
      return listed.length === 3 && listed;
    }, 'the heartbeat to list the 3 worker ids');
    expect(ids).toHaveLength(3);

    // The job first, then the dead heartbeat: the other way round, a sweep in between (every 200 ms)
    // removes the dead process before its job exists, and nothing names that job's worker again.
    const id = await lockedJob(t, 'w-killed');
    await heartbeat(t, 'killed-process', ['w-killed'], 5);
    const started = Date.now();
    // Unlocked by the heartbeat loop, then run (and so deleted) by the live worker. Left to
    // graphile-worker alone it would stay locked for 4 hours: any answer within the wait is recovery.
    await until(async () => (await job(t, id)) === undefined, 'the dead process\'s job to run');
    process.stdout.write(`recovery: a dead process's job ran ${Date.now() - started} ms after it was found locked\n`);
    expect(await t.services.db.selectFrom('worker_heartbeats').select('id').where('id', '=', 'killed-process').execute()).toEqual([]);
  });

  it('stop() removes the heartbeat row', async () => {
    await t.worker!.stop();
    expect(await t.services.db.selectFrom('worker_heartbeats').select('id').execute()).toEqual([]);
  });
});
