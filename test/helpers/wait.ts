// Waiting on conditions, never on the clock: a loaded machine (load average 10 on two cores) makes
// every fixed sleep too short somewhere. `until` polls a probe until it answers, with a deadline far
// beyond what an idle machine needs: the deadline only bounds a test that is already failing.
// To prove that something did NOT happen, do not sleep: wait for a later marker that must come after it
// (a sentinel message, a job queue that is empty, a row that says the work is done), then look.
import { sql } from 'kysely';
import type { Db } from '../../src/db/pool.ts';

/** Long enough for a machine under heavy load; short enough to stay inside vitest's 30 s test timeout. */
export const PATIENCE_MS = 25_000;

/** Polls `probe` until it answers something other than undefined/false; throws naming `what` at the deadline. */
export async function until<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? PATIENCE_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
}

/**
 * Nothing more can be sent: no `delivery:send` job is left (queued, scheduled for a retry, or running).
 * A duplicate or a retry would need one, so after this what a sink received is final, without a sleep.
 */
export async function noSendJobsLeft(db: Db, timeoutMs = 60_000): Promise<void> {
  await until(async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM graphile_worker.jobs
    WHERE task_identifier = 'delivery:send'`.execute(db)).rows[0]?.n === 0, 'no send job left', { timeoutMs });
}
