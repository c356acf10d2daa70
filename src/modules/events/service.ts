// The event log: append inside the ingest transaction, dedupe window, and its periodic clean-up.
import type { Task } from 'graphile-worker';
import type { Clock } from '../../clock.ts';
import type { Db, Queryable } from '../../db/pool.ts';
import { createEventsRepo, type EventRow } from './repo.ts';

export type { EventRow };

export function createEventsService(deps: { db: Db; clock: Clock; dedupeDays: number }) {
  const { db, clock, dedupeDays } = deps;
  return {
    claimMessageIds: (tx: Queryable, ws: string, ids: string[], at: Date) => createEventsRepo(tx).claimMessageIds(ws, ids, at),
    append: (tx: Queryable, ws: string, rows: EventRow[], at: Date) => createEventsRepo(tx).append(ws, rows, at),

    /** Forgets message ids older than the dedupe window (TANDEM_DEDUPE_DAYS). */
    purgeDedupe(): Promise<number> {
      return createEventsRepo(db).purgeDedupe(new Date(clock.now().getTime() - dedupeDays * 86_400_000));
    },

    tasks(): Record<string, Task> {
      return { 'events:purge_dedupe': async () => { await this.purgeDedupe(); } };
    },
  };
}

export type EventsService = ReturnType<typeof createEventsService>;
