// SQL of the bulk upsert (people/bulk.ts): one lookup and at most two writes per chunk of rows, whatever
// the chunk's size. Rows travel as one JSON parameter each: PostgreSQL parses it in C, where node-postgres
// would escape every element of a text[] parameter in JavaScript.
import { sql } from 'kysely';
import type { Queryable } from '../../db/pool.ts';

export interface BulkLookup {
  /** user id -> person id */
  users: Map<string, string>;
  /** lower(email) -> the oldest person with it */
  emails: Map<string, { id: string; externalId: string | null }>;
  /** phone -> the oldest person with it */
  phones: Map<string, { id: string; externalId: string | null }>;
  /** "user:<id>" and "email:<lower email>" of deleted-and-suppressed people */
  suppressed: Set<string>;
}

export interface BulkNewPerson {
  id: string;
  externalId: string | null;
  email: string | null;
  phone: string | null;
  /** The first attributes. */
  attributes: Record<string, unknown>;
}

export interface BulkPatch {
  id: string;
  /** Attributes to merge (||). */
  attributes: Record<string, unknown>;
  email: string | null;
  phone: string | null;
  externalId: string | null;
}

export function createBulkPeopleRepo(db: Queryable) {
  return {
    /** Everything a chunk needs to resolve its rows, in one round trip. */
    async lookup(ws: string, users: string[], emails: string[], phones: string[]): Promise<BulkLookup> {
      // LATERAL ... LIMIT 1: one index probe per value, whatever the table's size and however stale its
      // statistics (a bulk load outruns autovacuum; = ANY() then turns into a scan of the workspace).
      // The email and phone probes are fenced (OFFSET 0) before their ORDER BY ... LIMIT 1: unfenced,
      // PostgreSQL expects hundreds of matches per value and walks people_cursor (created_at order)
      // through the whole workspace per row instead of probing people_email / people_phone.
      const keys = JSON.stringify({ u: users, e: emails, p: phones });
      const res = await sql<{ src: string; key: string; id: string | null; external_id: string | null }>`
        SELECT 'user' AS src, u.v AS key, i.person_id AS id, u.v AS external_id
        FROM json_array_elements_text(${keys}::json->'u') AS u(v)
        CROSS JOIN LATERAL (SELECT person_id FROM person_identifiers
          WHERE workspace_id = ${ws} AND kind = 'user' AND value = u.v LIMIT 1) i
        UNION ALL
        SELECT 'email', e.v, p.id, p.external_id
        FROM json_array_elements_text(${keys}::json->'e') AS e(v)
        CROSS JOIN LATERAL (SELECT id, external_id FROM (SELECT id, external_id, created_at FROM people
          WHERE workspace_id = ${ws} AND email IS NOT NULL AND lower(email) = e.v OFFSET 0) x ORDER BY created_at, id LIMIT 1) p
        UNION ALL
        SELECT 'phone', f.v, p.id, p.external_id
        FROM json_array_elements_text(${keys}::json->'p') AS f(v)
        CROSS JOIN LATERAL (SELECT id, external_id FROM (SELECT id, external_id, created_at FROM people
          WHERE workspace_id = ${ws} AND phone IS NOT NULL AND phone = f.v OFFSET 0) x ORDER BY created_at, id LIMIT 1) p
        UNION ALL
        SELECT 'sup', s.kind || ':' || s.value, NULL, NULL
        FROM (SELECT 'user' AS kind, v AS value FROM json_array_elements_text(${keys}::json->'u') AS v
              UNION ALL SELECT 'email', v FROM json_array_elements_text(${keys}::json->'e') AS v) AS q
        CROSS JOIN LATERAL (SELECT kind, value FROM person_suppressions
          WHERE workspace_id = ${ws} AND kind = q.kind AND value = q.value LIMIT 1) s
        -- Most workspaces have no suppressions: one probe spares one per value.
        WHERE EXISTS (SELECT 1 FROM person_suppressions WHERE workspace_id = ${ws})`
        .execute(db);
      const out: BulkLookup = { users: new Map(), emails: new Map(), phones: new Map(), suppressed: new Set() };
      for (const r of res.rows) {
        if (r.src === 'sup') out.suppressed.add(r.key);
        else if (r.id === null) continue;
        else if (r.src === 'user') out.users.set(r.key, r.id);
        else if (r.src === 'email') out.emails.set(r.key, { id: r.id, externalId: r.external_id });
        else out.phones.set(r.key, { id: r.id, externalId: r.external_id });
      }
      return out;
    },

    /**
     * Inserts new people and their user ids in one statement; answers how many user ids were added
     * (fewer than given: another transaction claimed some first).
     */
    async insertPeople(ws: string, people: BulkNewPerson[], at: Date): Promise<{ idsAdded: number; idsWanted: number }> {
      if (people.length === 0) return { idsAdded: 0, idsWanted: 0 };
      const rows = [...people].sort((a, b) => (a.id < b.id ? -1 : 1));
      const wanted = rows.filter((r) => r.externalId !== null).length;
      // Imported people are known contacts, not visitors: identified, like a person with a user id or email.
      const res = await sql<{ added: number }>`
        WITH v AS (
          SELECT * FROM json_to_recordset(${JSON.stringify(rows)}::json)
            AS v(id uuid, "externalId" text, email text, phone text, attributes jsonb)
        ), p AS (
          INSERT INTO people (workspace_id, id, external_id, email, phone, attributes, identified, created_at, updated_at)
          SELECT ${ws}, v.id, v."externalId", v.email, v.phone, v.attributes, true, ${at}, ${at} FROM v
        ), i AS (
          INSERT INTO person_identifiers (workspace_id, kind, value, person_id)
          SELECT ${ws}, 'user', v."externalId", v.id FROM v WHERE v."externalId" IS NOT NULL ORDER BY v."externalId"
          ON CONFLICT (workspace_id, kind, value) DO NOTHING
          RETURNING 1
        )
        SELECT count(*)::int AS added FROM i`.execute(db);
      return { idsAdded: res.rows[0]?.added ?? 0, idsWanted: wanted };
    },

    /** Adds user ids; answers how many were added (fewer: another transaction claimed some first). */
    async insertUserIds(ws: string, ids: Array<{ value: string; personId: string }>): Promise<number> {
      if (ids.length === 0) return 0;
      const rows = [...ids].sort((a, b) => (a.value < b.value ? -1 : 1));
      const res = await sql`
        INSERT INTO person_identifiers (workspace_id, kind, value, person_id)
        SELECT ${ws}, 'user', v.value, v."personId"
        FROM json_to_recordset(${JSON.stringify(rows)}::json) AS v(value text, "personId" uuid)
        ON CONFLICT (workspace_id, kind, value) DO NOTHING`.execute(db);
      return Number(res.numAffectedRows ?? 0n);
    },

    /**
     * Merges attributes into existing people and sets the email, phone and user id given. Rows that
     * would not change are not written; answers the ids of the people that changed.
     */
    async updatePeople(ws: string, patches: BulkPatch[], at: Date): Promise<string[]> {
      if (patches.length === 0) return [];
      const rows = [...patches].sort((a, b) => (a.id < b.id ? -1 : 1)); // one lock order for every writer
      const res = await sql<{ id: string }>`
        UPDATE people p SET
          attributes = p.attributes || v.attributes,
          email = coalesce(v.email, p.email),
          phone = coalesce(v.phone, p.phone),
          external_id = coalesce(p.external_id, v."externalId"),
          identified = true,
          updated_at = ${at}
        FROM json_to_recordset(${JSON.stringify(rows)}::json) AS v(id uuid, attributes jsonb, email text, phone text, "externalId" text)
        WHERE p.workspace_id = ${ws} AND p.id = v.id
          AND ((p.attributes || v.attributes) IS DISTINCT FROM p.attributes
            OR (v.email IS NOT NULL AND v.email IS DISTINCT FROM p.email)
            OR (v.phone IS NOT NULL AND v.phone IS DISTINCT FROM p.phone)
            OR (p.external_id IS NULL AND v."externalId" IS NOT NULL)
            OR NOT p.identified)
        RETURNING p.id`.execute(db);
      return res.rows.map((r) => r.id);
    },

    /** Email and phone of people, for consent's ledger addresses. */
    async contacts(ws: string, ids: string[]): Promise<Map<string, { email: string | null; phone: string | null }>> {
      if (ids.length === 0) return new Map();
      const res = await sql<{ id: string; email: string | null; phone: string | null }>`
        SELECT p.id, p.email, p.phone FROM json_array_elements_text(${JSON.stringify(ids)}::json) AS i(id)
        CROSS JOIN LATERAL (SELECT id, email, phone FROM people WHERE workspace_id = ${ws} AND id = i.id::uuid LIMIT 1) p`.execute(db);
      return new Map(res.rows.map((r) => [r.id, { email: r.email, phone: r.phone }]));
    },
  };
}
