// When a failed delivery is tried again: a fixed schedule of about three days, each delay with ±20%
// jitter so that many endpoints failing together do not come back in lockstep.

const S = 1_000;
const M = 60 * S;
const H = 60 * M;

/** Delay before attempt n+2 after attempt n+1 failed (index n). 10 retries, 71 h 35 min 5 s in all. */
export const RETRY_DELAYS_MS: readonly number[] = [5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 10 * H, 10 * H, 14 * H, 20 * H];

/** Attempts in all (the first one plus every retry). */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

export const JITTER = 0.2;

/**
 * When to make the next attempt after attempt `attempt` (1-based) failed at `now`; null when it was
 * the last. `random` is in [0, 1) (Math.random by default; tests pass their own).
 */
export function nextAttemptAt(attempt: number, now: Date, random: () => number = Math.random): Date | null {
  const base = RETRY_DELAYS_MS[attempt - 1];
  if (base === undefined) return null;
  const factor = 1 - JITTER + 2 * JITTER * random();
  return new Date(now.getTime() + Math.round(base * factor));
}
