// SQL of bulk consent changes (consent/bulk.ts): states of many people read and written in one
// statement each, ledger rows appended in one statement. Rows travel as one JSON parameter (parsed by
// PostgreSQL, where node-postgres would escape every element of a text[] parameter in JavaScript).
import { sql } from 'kysely';
import type { Queryable } from '../../db/pool.ts';
import type { TopicState } from './types.ts';
import type { LedgerInsert } from './repo.ts';

export function createBulkConsentRepo(db: Queryable) {
  return {
    /** The explicit states of these people in these topics, locked until the transaction ends; key "person:topic". */
    async statesForUpdate(ws: string, personIds: string[], topicIds: string[]): Promise<Map<string, TopicState>> {
      if (personIds.length === 0 || topicIds.length === 0) return new Map();
      // One primary-key probe per person (LATERAL on person_id alone, the topic filter kept outside a
      // MATERIALIZED fence): after a bulk load the statistics are stale, and a topic condition inside was
      // planned as a scan of the topic's whole index for every person.
      const res = await sql<{ person_id: string; topic_id: string; state: TopicState }>`
        WITH s AS MATERIALIZED (
          SELECT x.person_id, x.topic_id, x.state
          FROM json_array_elements_text(${JSON.stringify([...personIds].sort())}::json) AS p(id)
          CROSS JOIN LATERAL (SELECT person_id, topic_id, state FROM topic_subscriptions
            WHERE workspace_id = ${ws} AND person_id = p.id::uuid ORDER BY topic_id FOR UPDATE) x
        )
        SELECT person_id, topic_id, state FROM s WHERE topic_id = ANY(${topicIds}::text[])`.execute(db);
      return new Map(res.rows.map((r) => [`${r.person_id}:${r.topic_id}`, r.state]));
    },

    async setStates(ws: string, rows: Array<{ personId: string; topicId: string; state: TopicState }>, at: Date): Promise<void> {
      if (rows.length === 0) return;
      const sorted = [...rows].sort((a, b) => (a.personId + a.topicId < b.personId + b.topicId ? -1 : 1));
      await sql`
        INSERT INTO topic_subscriptions (workspace_id, person_id, topic_id, state, updated_at)
        SELECT ${ws}, v."personId", v."topicId", v.state, ${at}
        FROM json_to_recordset(${JSON.stringify(sorted)}::json) AS v("personId" uuid, "topicId" text, state text)
        ON CONFLICT (workspace_id, person_id, topic_id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`
        .execute(db);
    },

    /** Appends ledger rows in order; answers their ids in the same order. */
    async insertLedger(ws: string, rows: LedgerInsert[]): Promise<string[]> {
      if (rows.length === 0) return [];
      // Identity values are drawn in the order the SELECT produces rows (ORDER BY ord), so the ids sorted
      // ascending are the rows' ids in input order (tandem_append_events relies on the same).
      const res = await sql<{ id: string }>`
        INSERT INTO consent_ledger (workspace_id, person_id, kind, channel, address, topic, from_state, to_state, source, ip,
          user_agent, message_id, created_at)
        SELECT ${ws}, v."personId", v.kind, v.channel, v.address, v.topic, v."from", v."to", v.source, v.ip, v."userAgent",
          v."messageId", v.at
        FROM json_to_recordset(${JSON.stringify(rows.map((r, ord) => ({ ...r, ord })))}::json)
          AS v("personId" uuid, kind text, channel text, address text, topic text, "from" text, "to" text, source text, ip text,
            "userAgent" text, "messageId" text, at timestamptz, ord int)
        ORDER BY v.ord
        RETURNING id`.execute(db);
      return res.rows.map((r) => r.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    },
  };
}
