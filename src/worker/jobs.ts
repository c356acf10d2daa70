// Enqueue a graphile-worker job with SQL, inside the caller's transaction when given one, so a job
// exists exactly when the change that asked for it committed. Task names use ':' (never '.').
import { sql } from 'kysely';
import type { Queryable } from '../db/pool.ts';

export interface JobOptions {
  /** Run no earlier than this. */
  runAt?: Date;
  /** A job with this key replaces a pending one with the same key (graphile-worker job_key). */
  jobKey?: string;
  maxAttempts?: number;
  /** Jobs in one named queue run one at a time, in order. */
  queueName?: string;
  priority?: number;
}

export async function enqueueJob(db: Queryable, task: string, payload: unknown, opts: JobOptions = {}): Promise<void> {
  await sql`SELECT graphile_worker.add_job(
    identifier => ${task}::text,
    payload => ${JSON.stringify(payload ?? {})}::json,
    queue_name => ${opts.queueName ?? null}::text,
    run_at => ${opts.runAt ?? null}::timestamptz,
    max_attempts => ${opts.maxAttempts ?? null}::int,
    job_key => ${opts.jobKey ?? null}::text,
    priority => ${opts.priority ?? null}::int
  )`.execute(db);
}

/**
 * Deletes the jobs with these keys that no worker has ever taken (attempts 0). A job that ran may
 * have work of its own to finish in its next run (after a crash); graphile_worker.complete_jobs leaves
 * a job taken meanwhile alone (it runs, and must then find its work done).
 */
export async function removeWaitingJobs(db: Queryable, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await sql`SELECT graphile_worker.complete_jobs(ARRAY(
    SELECT id FROM graphile_worker.jobs WHERE key = ANY(${keys}::text[]) AND attempts = 0 AND locked_at IS NULL))`.execute(db);
}
