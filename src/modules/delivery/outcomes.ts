// The outcomes of send attempts, written many at a time (group commit): each message row with its
// timeline event, a retry's job, and the event hooks (outbound webhooks). One statement when nothing
// else is written (no retry, no hook wants the events), else one transaction for the lot.
import type { Clock } from '../../clock.ts';
import type { Db, Queryable } from '../../db/pool.ts';
import { groupCommit } from '../../db/group-commit.ts';
import { enqueueJob } from '../../worker/jobs.ts';
import { createQueueRepo, type Outcome } from './queue-repo.ts';
import type { MessageRow } from './types.ts';

export const SEND_TASK = 'delivery:send';

/** The job a message is queued with. */
export const sendJobKey = (ws: string, messageId: string) => `send:${ws}:${messageId}`;

/**
 * A retry's job: a key of its own per attempt, so that adding it never touches a job that is running
 * (graphile-worker would take the key from a running job and stop it from ever running again).
 */
export const retryJobKey = (ws: string, messageId: string, attempt: number) => `send:${ws}:${messageId}:retry${attempt}`;

/** Called inside the transaction that records a delivery event (outbound webhooks subscribe here). */
export type MessageEventHook = (db: Queryable, ws: string, type: string, message: MessageRow, data: Record<string, unknown>) => Promise<void>;

export interface HookEntry {
  hook: MessageEventHook;
  /** Whether the hook does anything for this event of the message (answered from its owner's caches); absent: always. */
  wants?: ((ws: string, type: string, message: MessageRow) => boolean | Promise<boolean>) | undefined;
}

export interface Recorded {
  /** The message as claimed for the attempt. */
  message: MessageRow;
  outcome: Outcome;
  /** A retry: the attempt's job runs at this time. */
  retryAt?: Date | undefined;
}

export function createOutcomeWriter(deps: { db: Db; clock: Clock; hooks: readonly HookEntry[] }) {
  const { db, clock, hooks } = deps;

  async function writeAll(ws: string, items: Recorded[]): Promise<void> {
    const at = clock.now();
    const outcomes = items.map((i) => i.outcome);
    const events: Array<{ message: MessageRow; outcome: Outcome; hooks: HookEntry[] }> = [];
    for (const { message, outcome } of items) {
      const updated: MessageRow = { ...message, status: outcome.status };
      const wanted: HookEntry[] = [];
      for (const h of hooks) if (!h.wants || await h.wants(ws, outcome.type, updated)) wanted.push(h);
      if (wanted.length > 0) events.push({ message: updated, outcome, hooks: wanted });
    }
    const retries = items.filter((i) => i.retryAt !== undefined);
    if (events.length === 0 && retries.length === 0) {
      await createQueueRepo(db).recordOutcomes(ws, outcomes, at);
      return;
    }
    await db.transaction().execute(async (tx) => {
      await createQueueRepo(tx).recordOutcomes(ws, outcomes, at);
      for (const r of retries) {
        await enqueueJob(tx, SEND_TASK, { workspaceId: ws, messageId: r.message.id },
          { runAt: r.retryAt, jobKey: retryJobKey(ws, r.message.id, r.message.attempts) });
      }
      for (const e of events) for (const h of e.hooks) await h.hook(tx, ws, e.outcome.type, e.message, e.outcome.data);
    });
  }

  const write = groupCommit<string, Recorded, undefined>(async (ws, items) => {
    await writeAll(ws, items);
    return items.map(() => undefined);
  }, { max: 200 });

  return {
    /** Resolves once the outcome is committed (with others of the same workspace). */
    write(ws: string, r: Recorded): Promise<void> {
      return write(ws, r);
    },
  };
}

export type OutcomeWriter = ReturnType<typeof createOutcomeWriter>;
