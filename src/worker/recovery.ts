// Crash recovery of jobs. graphile-worker treats a locked job as abandoned only after 4 hours, so the
// jobs of a worker process killed with -9 would wait that long. Each worker process keeps a row in
// worker_heartbeats (its graphile-worker ids, seen_at) fresh every few seconds; the same loop unlocks
// the jobs of processes not seen for `deadAfterMs` with graphile_worker.force_unlock_workers and
// deletes their rows. A process that was only paused that long (not dead) finds its row gone, logs it
// and re-registers: its jobs may then have run twice, which is the bounded duplicate at-least-once
// delivery accepts. Times are the database's (now()), so the hosts' clocks do not matter.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { sql } from 'kysely';
import type { Db } from '../db/pool.ts';
import type { Logger } from '../logger.ts';

export interface RecoveryOptions {
  /** How often this process records its heartbeat and looks for dead ones. */
  heartbeatMs: number;
  /** A process whose heartbeat is older than this is dead: its jobs are unlocked. */
  deadAfterMs: number;
}

export interface WorkerRecovery {
  /** This process's row id. */
  readonly id: string;
  /** Records the heartbeat row and starts the loop. */
  start(): Promise<void>;
  /** A graphile-worker worker of this process started (its id locks the jobs it runs). */
  addWorker(workerId: string): void;
  removeWorker(workerId: string): void;
  /** One heartbeat now. */
  beat(): Promise<void>;
  /** Unlocks the jobs of dead processes now; answers how many processes were found dead. */
  sweep(): Promise<{ processes: number; jobs: number }>;
  /** Stops the loop and removes this process's row (its jobs were released by graphile-worker). */
  stop(): Promise<void>;
}

export function createWorkerRecovery(db: Db, log: Logger, opts: RecoveryOptions): WorkerRecovery {
  const id = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const workerIds = new Set<string>();
  let registered = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  // Heartbeats and sweeps run one at a time; stop() waits for the one in progress.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };

  const beat = () => serial(async () => {
    if (stopped) return;
    const ids = [...workerIds];
    const row = await sql<{ inserted: boolean }>`
      INSERT INTO worker_heartbeats (id, worker_ids, hostname, pid)
      VALUES (${id}, ${ids}::text[], ${os.hostname()}, ${process.pid})
      ON CONFLICT (id) DO UPDATE SET worker_ids = EXCLUDED.worker_ids, seen_at = now()
      RETURNING (xmax = 0) AS inserted`.execute(db);
    if (registered && row.rows[0]?.inserted) {
      log.warn({ heartbeatId: id, workerIds: ids }, 'this worker was not seen for too long and was taken for dead; its jobs may have run elsewhere too');
    }
    registered = true;
  });

  const sweep = () => serial(async () => {
    if (stopped) return { processes: 0, jobs: 0 };
    return db.transaction().execute(async (tx) => {
      // SKIP LOCKED: two live processes sweeping at once each take different dead rows.
      const dead = await sql<{ id: string; worker_ids: string[]; hostname: string; pid: number }>`
        SELECT id, worker_ids, hostname, pid FROM worker_heartbeats
        WHERE id <> ${id} AND seen_at < now() - make_interval(secs => ${opts.deadAfterMs / 1000})
        FOR UPDATE SKIP LOCKED`.execute(tx);
      if (dead.rows.length === 0) return { processes: 0, jobs: 0 };
      const ids = dead.rows.flatMap((r) => r.worker_ids);
      const jobs = await sql<{ n: number }>`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE locked_by = ANY(${ids}::text[])`.execute(tx);
      await sql`SELECT graphile_worker.force_unlock_workers(${ids}::text[])`.execute(tx);
      await sql`DELETE FROM worker_heartbeats WHERE id = ANY(${dead.rows.map((r) => r.id)}::text[])`.execute(tx);
      const n = jobs.rows[0]?.n ?? 0;
      log.warn({ dead: dead.rows.map((r) => ({ id: r.id, hostname: r.hostname, pid: r.pid })), unlockedJobs: n },
        'unlocked the jobs of worker processes that stopped sending heartbeats');
      return { processes: dead.rows.length, jobs: n };
    });
  });

  const loop = () => {
    timer = setTimeout(() => {
      void (async () => {
        try {
          await beat();
          await sweep();
        } catch (err) {
          // The database may be briefly unreachable; the next round tries again.
          log.warn({ err }, 'worker heartbeat failed');
        }
        if (!stopped) loop();
      })();
    }, opts.heartbeatMs);
    timer.unref();
  };

  return {
    id,
    async start() {
      await beat();
      loop();
    },
    addWorker(workerId) {
      workerIds.add(workerId);
      // Recorded at once: until then a crash would leave this worker's jobs locked for 4 hours.
      beat().catch((err: unknown) => log.warn({ err }, 'worker heartbeat failed'));
    },
    removeWorker(workerId) {
      workerIds.delete(workerId);
    },
    beat,
    sweep,
    stop() {
      if (timer) clearTimeout(timer);
      stopping ??= serial(async () => {
        stopped = true;
        await sql`DELETE FROM worker_heartbeats WHERE id = ${id}`.execute(db).catch((err: unknown) => log.warn({ err }, 'could not remove the worker heartbeat'));
      });
      return stopping;
    },
  };
}
