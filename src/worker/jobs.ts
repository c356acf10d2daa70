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
