// SQL for the event log: the messageId dedupe window, bulk append, and the NOTIFY for live listeners.
import { sql } from 'kysely';
import type { Queryable } from '../../db/pool.ts';
import type { EventKind } from '../../db/schema.ts';

export interface EventRow {
  personId: string | null;
  messageId: string | null;
  type: EventKind;
  name: string | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
  userId: string | null;
  anonymousId: string | null;
  source: string;
  timestamp: Date;
}

export function createEventsRepo(db: Queryable) {
  return {
    /** Claims message ids for the window; answers the ids that were new (the others are duplicates). */
    async claimMessageIds(ws: string, ids: string[], at: Date): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const sorted = [...ids].sort();
      const res = await sql<{ message_id: string }>`
        INSERT INTO event_dedupe (workspace_id, message_id, received_at)
        SELECT ${ws}, m, ${at} FROM unnest(${sorted}::text[]) AS m
        ON CONFLICT (workspace_id, message_id) DO NOTHING
        RETURNING message_id`.execute(db);
      return new Set(res.rows.map((r) => r.message_id));
    },

    /** Appends events in order and notifies live listeners; answers their ids in the same order. */
    async append(ws: string, rows: EventRow[], receivedAt: Date): Promise<string[]> {
      if (rows.length === 0) return [];
      const payload = JSON.stringify(rows.map((r, ord) => ({
        ord, person_id: r.personId, message_id: r.messageId, type: r.type, name: r.name, properties: r.properties,
        context: r.context, user_id: r.userId, anonymous_id: r.anonymousId, source: r.source, ts: r.timestamp.toISOString(),
      })));
      // tandem_append_events (migrations/0002) also NOTIFYs live listeners; PostgreSQL delivers it at commit.
      const res = await sql<{ id: string }>`SELECT id FROM tandem_append_events(${ws}, ${payload}::jsonb, ${receivedAt})`.execute(db);
      // Identity values are drawn in insertion order, so ascending ids follow the input order.
      return res.rows.map((r) => r.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    },

    async purgeDedupe(before: Date): Promise<number> {
      const res = await sql`DELETE FROM event_dedupe WHERE received_at < ${before}`.execute(db);
      return Number(res.numAffectedRows ?? 0n);
    },
  };
}

export type EventsRepo = ReturnType<typeof createEventsRepo>;
