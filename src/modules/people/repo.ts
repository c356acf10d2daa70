// SQL for people and identity: identifiers, bulk creation and attribute patches, merge, delete, suppression.
// Bulk statements take JSON arrays (jsonb_to_recordset) so a batch of 100 events costs a few round trips.
import { sql } from 'kysely';
import type { Queryable } from '../../db/pool.ts';
import type { IdentifierKind, NewPerson, PersonPatch, SuppressionKind } from './types.ts';

const json = (v: unknown) => JSON.stringify(v);

export interface IdentifierHit {
  kind: IdentifierKind;
  value: string;
  personId: string;
}

export interface BatchLookup {
  identifiers: IdentifierHit[];
  /** The oldest person for each lower-cased email. */
  emails: Array<{ email: string; personId: string }>;
  suppressed: Set<string>;
  people: Map<string, PersonMeta>;
}

export interface PersonMeta {
  id: string;
  externalId: string | null;
  email: string | null;
  identified: boolean;
}

export function createPeopleRepo(db: Queryable) {
  return {
    async findIdentifiers(ws: string, pairs: Array<{ kind: IdentifierKind; value: string }>): Promise<IdentifierHit[]> {
      if (pairs.length === 0) return [];
      // LATERAL ... LIMIT 1 cannot be flattened into a hash join, so the plan stays one primary-key probe
      // per pair however many identifiers the workspace has (and however stale its statistics are).
      const res = await sql<{ kind: IdentifierKind; value: string; person_id: string }>`
        SELECT i.kind, i.value, i.person_id
        FROM unnest(${pairs.map((p) => p.kind)}::text[], ${pairs.map((p) => p.value)}::text[]) AS p(kind, value)
        CROSS JOIN LATERAL (SELECT kind, value, person_id FROM person_identifiers
          WHERE workspace_id = ${ws} AND kind = p.kind AND value = p.value LIMIT 1) i`.execute(db);
      return res.rows.map((r) => ({ kind: r.kind, value: r.value, personId: r.person_id }));
    },

    /**
     * Everything a batch needs to resolve identities, in one round trip: the people behind the
     * identifiers, the people with the emails (oldest first), and which identifiers are suppressed.
     */
    async loadForBatch(ws: string, pairs: Array<{ kind: IdentifierKind; value: string }>, emails: string[],
      suppressions: Array<{ kind: SuppressionKind; value: string }>): Promise<BatchLookup> {
      // tandem_identity_lookup (migrations/0002): one probe per identifier, plan cached per connection.
      const res = await sql<{ src: 'id' | 'email' | 'sup'; kind: string; value: string; person_id: string | null;
        external_id: string | null; identified: boolean | null }>`
        SELECT * FROM tandem_identity_lookup(${ws}, ${pairs.map((p) => p.kind)}::text[], ${pairs.map((p) => p.value)}::text[],
          ${emails}::text[], ${suppressions.map((p) => p.kind)}::text[], ${suppressions.map((p) => p.value)}::text[])`.execute(db);
      const out: BatchLookup = { identifiers: [], emails: [], suppressed: new Set(), people: new Map() };
      for (const r of res.rows) {
        if (r.src === 'sup') {
          out.suppressed.add(`${r.kind}:${r.value}`);
          continue;
        }
        if (!r.person_id) continue;
        out.people.set(r.person_id, { id: r.person_id, externalId: r.external_id, email: null, identified: !!r.identified });
        if (r.src === 'id') out.identifiers.push({ kind: r.kind as IdentifierKind, value: r.value, personId: r.person_id });
        else out.emails.push({ email: r.value, personId: r.person_id });
      }
      return out;
    },

    /**
     * Writes a batch's identity changes in one statement: new people (with their first attributes),
     * new identifiers, and attribute patches of existing people. Answers the identifiers another
     * transaction claimed first.
     */
    async writeBatch(ws: string, people: NewPerson[], identifiers: IdentifierHit[], patches: PersonPatch[], at: Date): Promise<Array<{ kind: IdentifierKind; value: string }>> {
      if (people.length === 0 && identifiers.length === 0 && patches.length === 0) return [];
      const sortedIds = [...identifiers].sort((a, b) => (a.kind + a.value < b.kind + b.value ? -1 : 1));
      const rows = [...patches].sort((a, b) => (a.id < b.id ? -1 : 1)).map(patchRow);
      // tandem_identity_write (migrations/0002): the three writes in one round trip, plans cached.
      const newPeople = people.map((p) => ({
        id: p.id, external_id: p.externalId, email: p.email, phone: p.phone ?? null, identified: p.identified,
        attributes: p.attributes ?? {}, timezone: p.timezone ?? null, locale: p.locale ?? null, at: p.at.toISOString(),
      })).sort((a, b) => (a.id < b.id ? -1 : 1));
      const won = await sql<{ kind: IdentifierKind; value: string }>`
        SELECT * FROM tandem_identity_write(${ws}, ${json(newPeople)}::jsonb, ${json(rows)}::jsonb,
          ${rows.map((r) => r.id)}::uuid[],
          ${json(sortedIds.map((r) => ({ kind: r.kind, value: r.value, person_id: r.personId })))}::jsonb, ${at})`.execute(db);
      if (won.rows.length === identifiers.length) return [];
      const wonKeys = new Set(won.rows.map((r) => `${r.kind}:${r.value}`));
      return sortedIds.filter((r) => !wonKeys.has(`${r.kind}:${r.value}`)).map(({ kind, value }) => ({ kind, value }));
    },

    async findByEmails(ws: string, emails: string[]): Promise<Array<PersonMeta>> {
      if (emails.length === 0) return [];
      // Oldest person first: when two share an email, the earliest profile answers for it.
      const res = await sql<{ id: string; external_id: string | null; email: string; identified: boolean }>`
        SELECT id, external_id, email, identified FROM people
        WHERE workspace_id = ${ws} AND lower(email) = ANY(${emails}::text[])
        ORDER BY created_at, id`.execute(db);
      return res.rows.map((r) => ({ id: r.id, externalId: r.external_id, email: r.email, identified: r.identified }));
    },

    async findMeta(ws: string, ids: string[]): Promise<PersonMeta[]> {
      if (ids.length === 0) return [];
      const res = await sql<{ id: string; external_id: string | null; email: string | null; identified: boolean }>`
        SELECT id, external_id, email, identified FROM people WHERE workspace_id = ${ws} AND id = ANY(${ids}::uuid[])`.execute(db);
      return res.rows.map((r) => ({ id: r.id, externalId: r.external_id, email: r.email, identified: r.identified }));
    },

    async findSuppressed(ws: string, pairs: Array<{ kind: SuppressionKind; value: string }>): Promise<Set<string>> {
      if (pairs.length === 0) return new Set();
      const res = await sql<{ kind: string; value: string }>`
        SELECT s.kind, s.value
        FROM unnest(${pairs.map((p) => p.kind)}::text[], ${pairs.map((p) => p.value)}::text[]) AS p(kind, value)
        CROSS JOIN LATERAL (SELECT kind, value FROM person_suppressions
          WHERE workspace_id = ${ws} AND kind = p.kind AND value = p.value LIMIT 1) s`.execute(db);
      return new Set(res.rows.map((r) => `${r.kind}:${r.value}`));
    },

    async lockPeople(ws: string, ids: string[]): Promise<void> {
      await sql`SELECT id FROM people WHERE workspace_id = ${ws} AND id = ANY(${ids}::uuid[]) ORDER BY id FOR UPDATE`.execute(db);
    },

    /**
     * Folds secondary into primary: the primary's attributes win, the secondary's fill gaps; events,
     * identifiers, devices and relationships move; the secondary row is deleted.
     */
    async mergeInto(ws: string, primary: string, secondary: string, at: Date): Promise<void> {
      await sql`
        UPDATE people p SET
          attributes = s.attributes || p.attributes,
          external_id = coalesce(p.external_id, s.external_id),
          email = coalesce(p.email, s.email),
          phone = coalesce(p.phone, s.phone),
          timezone = coalesce(p.timezone, s.timezone),
          locale = coalesce(p.locale, s.locale),
          identified = p.identified OR s.identified,
          created_at = least(p.created_at, s.created_at),
          updated_at = ${at}
        FROM people s
        WHERE p.workspace_id = ${ws} AND p.id = ${primary} AND s.workspace_id = ${ws} AND s.id = ${secondary}`.execute(db);
      await sql`UPDATE events SET person_id = ${primary} WHERE workspace_id = ${ws} AND person_id = ${secondary}`.execute(db);
      await sql`UPDATE person_identifiers SET person_id = ${primary} WHERE workspace_id = ${ws} AND person_id = ${secondary}`.execute(db);
      await sql`UPDATE devices SET person_id = ${primary} WHERE workspace_id = ${ws} AND person_id = ${secondary}`.execute(db);
      await sql`
        INSERT INTO object_relationships (workspace_id, person_id, object_type, object_id, attributes, created_at, updated_at)
        SELECT workspace_id, ${primary}, object_type, object_id, attributes, created_at, updated_at
        FROM object_relationships WHERE workspace_id = ${ws} AND person_id = ${secondary}
        ON CONFLICT DO NOTHING`.execute(db);
      await sql`DELETE FROM people WHERE workspace_id = ${ws} AND id = ${secondary}`.execute(db);
    },

    /** Every identifier of a person, for suppression and export. */
    async identifiersOf(ws: string, personId: string): Promise<Array<{ kind: IdentifierKind; value: string }>> {
      const res = await sql<{ kind: IdentifierKind; value: string }>`
        SELECT kind, value FROM person_identifiers WHERE workspace_id = ${ws} AND person_id = ${personId} ORDER BY kind, value`.execute(db);
      return res.rows;
    },

    /** Deletes the person and everything stored about them (events, identifiers, devices, relationships). */
    async deletePerson(ws: string, personId: string): Promise<boolean> {
      await sql`DELETE FROM events WHERE workspace_id = ${ws} AND person_id = ${personId}`.execute(db);
      const res = await sql`DELETE FROM people WHERE workspace_id = ${ws} AND id = ${personId}`.execute(db);
      return (res.numAffectedRows ?? 0n) > 0n;
    },

    async insertSuppressions(ws: string, rows: Array<{ kind: SuppressionKind; value: string }>, reason: string, deletionId: string | null = null): Promise<void> {
      if (rows.length === 0) return;
      await sql`
        INSERT INTO person_suppressions (workspace_id, kind, value, reason, deletion_id)
        SELECT ${ws}, r.kind, r.value, ${reason}, ${deletionId} FROM jsonb_to_recordset(${json(rows)}::jsonb) AS r(kind text, value text)
        ON CONFLICT DO NOTHING`.execute(db);
    },

    /**
     * Lifts these marks and, with `whole`, every other mark of the same delete-and-suppress (so a user id
     * lifts the deleted person's email too). Answers what was lifted.
     */
    async deleteSuppressions(ws: string, rows: Array<{ kind: SuppressionKind; value: string }>, opts: { whole: boolean }): Promise<Array<{ kind: SuppressionKind; value: string }>> {
      if (rows.length === 0) return [];
      const res = await sql<{ kind: SuppressionKind; value: string }>`
        WITH hit AS (
          SELECT s.kind, s.value, s.deletion_id FROM person_suppressions s
          JOIN jsonb_to_recordset(${json(rows)}::jsonb) AS r(kind text, value text) ON s.kind = r.kind AND s.value = r.value
          WHERE s.workspace_id = ${ws}
        )
        DELETE FROM person_suppressions s
        WHERE s.workspace_id = ${ws} AND ((s.kind, s.value) IN (SELECT kind, value FROM hit)
          OR (${opts.whole} AND s.deletion_id IN (SELECT deletion_id FROM hit WHERE deletion_id IS NOT NULL)))
        RETURNING s.kind, s.value`.execute(db);
      return res.rows;
    },

    async upsertDevice(ws: string, personId: string, d: { id: string; platform: string | null; lastUsed: Date | null; attributes: Record<string, unknown> }, at: Date): Promise<void> {
      await sql`
        INSERT INTO devices (workspace_id, person_id, device_id, platform, attributes, last_used, created_at, updated_at)
        VALUES (${ws}, ${personId}, ${d.id}, ${d.platform}, ${json(d.attributes)}::jsonb, ${d.lastUsed}, ${at}, ${at})
        ON CONFLICT (workspace_id, device_id) DO UPDATE SET person_id = excluded.person_id,
          platform = coalesce(excluded.platform, devices.platform),
          attributes = devices.attributes || excluded.attributes,
          last_used = coalesce(excluded.last_used, devices.last_used), updated_at = excluded.updated_at`.execute(db);
    },

    async deleteDevice(ws: string, personId: string, deviceId: string): Promise<boolean> {
      const res = await sql`DELETE FROM devices WHERE workspace_id = ${ws} AND person_id = ${personId} AND device_id = ${deviceId}`.execute(db);
      return (res.numAffectedRows ?? 0n) > 0n;
    },

    async upsertObject(ws: string, type: string, id: string, attributes: Record<string, unknown>, at: Date): Promise<void> {
      const { set, unset } = splitNulls(attributes);
      await sql`
        INSERT INTO objects (workspace_id, object_type, object_id, attributes, created_at, updated_at)
        VALUES (${ws}, ${type}, ${id}, ${json(set)}::jsonb, ${at}, ${at})
        ON CONFLICT (workspace_id, object_type, object_id) DO UPDATE
        SET attributes = (objects.attributes || excluded.attributes) - ${unset}::text[], updated_at = excluded.updated_at`.execute(db);
    },

    async deleteObject(ws: string, type: string, id: string): Promise<void> {
      await sql`DELETE FROM object_relationships WHERE workspace_id = ${ws} AND object_type = ${type} AND object_id = ${id}`.execute(db);
      await sql`DELETE FROM objects WHERE workspace_id = ${ws} AND object_type = ${type} AND object_id = ${id}`.execute(db);
    },

    async relate(ws: string, personId: string, type: string, id: string, attributes: Record<string, unknown>, at: Date): Promise<void> {
      await sql`
        INSERT INTO objects (workspace_id, object_type, object_id, attributes, created_at, updated_at)
        VALUES (${ws}, ${type}, ${id}, '{}'::jsonb, ${at}, ${at}) ON CONFLICT DO NOTHING`.execute(db);
      await sql`
        INSERT INTO object_relationships (workspace_id, person_id, object_type, object_id, attributes, created_at, updated_at)
        VALUES (${ws}, ${personId}, ${type}, ${id}, ${json(attributes)}::jsonb, ${at}, ${at})
        ON CONFLICT (workspace_id, person_id, object_type, object_id) DO UPDATE
        SET attributes = object_relationships.attributes || excluded.attributes, updated_at = excluded.updated_at`.execute(db);
    },

    async unrelate(ws: string, personId: string, type: string, id: string): Promise<void> {
      await sql`DELETE FROM object_relationships WHERE workspace_id = ${ws} AND person_id = ${personId}
        AND object_type = ${type} AND object_id = ${id}`.execute(db);
    },
  };
}

function patchRow(p: PersonPatch) {
  return {
    id: p.id, set: p.set, unset: p.unset, external_id: p.externalId ?? null,
    email: p.email === undefined ? null : p.email, has_email: p.email !== undefined,
    phone: p.phone === undefined ? null : p.phone, has_phone: p.phone !== undefined,
    timezone: p.timezone ?? null, locale: p.locale ?? null, identified: p.identified ?? false,
  };
}

export function splitNulls(attrs: Record<string, unknown>): { set: Record<string, unknown>; unset: string[] } {
  const set: Record<string, unknown> = {};
  const unset: string[] = [];
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) unset.push(k);
    else set[k] = v;
  }
  return { set, unset };
}

export type PeopleRepo = ReturnType<typeof createPeopleRepo>;
