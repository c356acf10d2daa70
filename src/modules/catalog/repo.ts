// SQL for the event catalog: the recorder's bulk upserts (inside the ingest transaction) and the reads
// behind GET /api/event-types. Every statement is scoped by workspace_id.
import { sql } from 'kysely';
import type { Queryable } from '../../db/pool.ts';
import type { EventKind } from '../../db/schema.ts';

export interface TypeUpsert {
  type: string;
  name: string;
  firstSeen: Date;
  lastSeen: Date;
  sample: Record<string, unknown>;
}

export interface StoredProperty {
  type: string;
  name: string;
  path: string;
  dataType: string;
  seenTypes: string[];
}

export interface PropertyUpsert extends StoredProperty {
  firstSeen: Date;
  lastSeen: Date;
}

export interface TypeChange {
  type: string;
  name: string;
  path: string;
  fromType: string;
  toType: string;
  changedAt: Date;
}

export interface EventTypeRow {
  type: EventKind;
  name: string;
  firstSeen: Date;
  lastSeen: Date;
  sample: Record<string, unknown>;
  count24h: number;
  count7d: number;
}

export interface PropertyRow {
  type: string;
  name: string;
  path: string;
  dataType: string;
  seenTypes: string[];
  firstSeen: Date;
  lastSeen: Date;
}

export interface CatalogFilter {
  type?: string | undefined;
  name?: string | undefined;
  /** Keyset: only event types after this (type, name), in (type, name) order. */
  after?: { type: string; name: string } | undefined;
  /** Only these event types (the page being read). */
  keys?: Array<{ type: string; name: string }> | undefined;
}

function filterSql(alias: string, f: CatalogFilter) {
  const a = sql.raw(alias);
  return sql`${f.type !== undefined ? sql`AND ${a}.type = ${f.type}` : sql``}
    ${f.name !== undefined ? sql`AND ${a}.name = ${f.name}` : sql``}
    ${f.after !== undefined ? sql`AND (${a}.type, ${a}.name) > (${f.after.type}::text COLLATE "C", ${f.after.name}::text COLLATE "C")` : sql``}
    ${f.keys !== undefined ? sql`AND (${a}.type, ${a}.name) IN (SELECT * FROM unnest(${f.keys.map((k) => k.type)}::text[], ${f.keys.map((k) => k.name)}::text[]))` : sql``}`;
}

export function createCatalogRepo(db: Queryable) {
  return {
    /**
     * Upserts event types in the given order (callers sort them, so concurrent batches lock rows in
     * one order). The row lock it takes serialises every property write for that event type.
     * Answers the transaction id, so the caller can learn later whether the write committed.
     */
    async upsertTypes(ws: string, rows: TypeUpsert[]): Promise<string> {
      const payload = JSON.stringify(rows.map((r, ord) => ({
        ord, type: r.type, name: r.name, first_seen: r.firstSeen.toISOString(), last_seen: r.lastSeen.toISOString(),
        sample: r.sample,
      })));
      const res = await sql<{ xid: string }>`
        INSERT INTO event_types (workspace_id, type, name, first_seen, last_seen, sample)
        SELECT ${ws}, t.type, t.name, t.first_seen, t.last_seen, coalesce(t.sample, '{}')
        FROM jsonb_to_recordset(${payload}::jsonb)
          AS t(ord int, type text, name text, first_seen timestamptz, last_seen timestamptz, sample jsonb)
        ORDER BY t.ord
        ON CONFLICT (workspace_id, type, name) DO UPDATE SET
          first_seen = LEAST(event_types.first_seen, excluded.first_seen),
          sample = CASE WHEN excluded.last_seen >= event_types.last_seen THEN excluded.sample ELSE event_types.sample END,
          last_seen = GREATEST(event_types.last_seen, excluded.last_seen)
        RETURNING pg_current_xact_id()::text AS xid`.execute(db);
      return res.rows[0]?.xid ?? '';
    },

    /** How many event types the workspace has, and which of `keys` are among them. */
    async typeRoom(ws: string, keys: Array<{ type: string; name: string }>): Promise<{ total: number; existing: Set<string> }> {
      const res = await sql<{ total: string; existing: Array<[string, string]> | null }>`
        SELECT (SELECT count(*) FROM event_types WHERE workspace_id = ${ws}) AS total,
          (SELECT json_agg(json_build_array(et.type, et.name)) FROM event_types et
           JOIN unnest(${keys.map((k) => k.type)}::text[], ${keys.map((k) => k.name)}::text[]) AS k(type, name)
             ON et.type = k.type AND et.name = k.name
           WHERE et.workspace_id = ${ws}) AS existing`.execute(db);
      const row = res.rows[0];
      return { total: Number(row?.total ?? 0), existing: new Set((row?.existing ?? []).map(([t, n]) => `${t}\u0000${n}`)) };
    },

    /** Event types with more properties than `max`, at most `limit` of them. */
    async typesAtPropertyCap(ws: string, max: number, limit: number): Promise<Array<{ type: string; name: string }>> {
      const res = await sql<{ type: string; name: string }>`
        SELECT p.type, p.name FROM event_type_properties p WHERE p.workspace_id = ${ws}
        GROUP BY p.type, p.name HAVING count(*) >= ${max} ORDER BY p.type, p.name LIMIT ${limit}`.execute(db);
      return res.rows;
    },

    /** Every stored property of the given event types. */
    async propertiesOf(ws: string, keys: Array<{ type: string; name: string }>): Promise<StoredProperty[]> {
      const res = await sql<{ type: string; name: string; path: string; data_type: string; seen_types: string[] }>`
        SELECT p.type, p.name, p.path, p.data_type, p.seen_types
        FROM event_type_properties p
        JOIN unnest(${keys.map((k) => k.type)}::text[], ${keys.map((k) => k.name)}::text[]) AS k(type, name)
          ON p.type = k.type AND p.name = k.name
        WHERE p.workspace_id = ${ws}`.execute(db);
      return res.rows.map((r) => ({ type: r.type, name: r.name, path: r.path, dataType: r.data_type, seenTypes: r.seen_types }));
    },

    /** Upserts properties in the given order; the caller has computed data_type and seen_types under the type's lock. */
    async upsertProperties(ws: string, rows: PropertyUpsert[]): Promise<void> {
      if (rows.length === 0) return;
      const payload = JSON.stringify(rows.map((r, ord) => ({
        ord, type: r.type, name: r.name, path: r.path, data_type: r.dataType, seen_types: r.seenTypes,
        first_seen: r.firstSeen.toISOString(), last_seen: r.lastSeen.toISOString(),
      })));
      await sql`
        INSERT INTO event_type_properties (workspace_id, type, name, path, data_type, seen_types, first_seen, last_seen)
        SELECT ${ws}, p.type, p.name, p.path, p.data_type, p.seen_types, p.first_seen, p.last_seen
        FROM jsonb_to_recordset(${payload}::jsonb) AS p(ord int, type text, name text, path text, data_type text,
          seen_types text[], first_seen timestamptz, last_seen timestamptz)
        ORDER BY p.ord
        ON CONFLICT (workspace_id, type, name, path) DO UPDATE SET
          data_type = excluded.data_type,
          seen_types = excluded.seen_types,
          first_seen = LEAST(event_type_properties.first_seen, excluded.first_seen),
          last_seen = GREATEST(event_type_properties.last_seen, excluded.last_seen)`.execute(db);
    },

    async insertChanges(ws: string, rows: TypeChange[]): Promise<void> {
      if (rows.length === 0) return;
      const payload = JSON.stringify(rows.map((r, ord) => ({
        ord, type: r.type, name: r.name, path: r.path, from_type: r.fromType, to_type: r.toType,
        changed_at: r.changedAt.toISOString(),
      })));
      await sql`
        INSERT INTO event_type_changes (workspace_id, type, name, path, from_type, to_type, changed_at)
        SELECT ${ws}, c.type, c.name, c.path, c.from_type, c.to_type, c.changed_at
        FROM jsonb_to_recordset(${payload}::jsonb) AS c(ord int, type text, name text, path text, from_type text,
          to_type text, changed_at timestamptz)
        ORDER BY c.ord`.execute(db);
    },

    /** 'committed' | 'aborted' | 'in progress' per transaction id (null when too old to tell). */
    async transactionStatus(xids: string[]): Promise<Map<string, string | null>> {
      const res = await sql<{ xid: string; status: string | null }>`
        SELECT x AS xid, pg_xact_status(x::xid8) AS status FROM unnest(${xids}::text[]) AS x`.execute(db);
      return new Map(res.rows.map((r) => [r.xid, r.status]));
    },

    /**
     * Event types with their volume over (now-24h, now] and (now-7d, now], counted from events through
     * events_name (workspace_id, type, name, received_at). Events without a name are catalogued under
     * their type (identify, group, alias) or "(unnamed)" (page, screen), hence the extra branches.
     */
    async listTypes(ws: string, f: CatalogFilter, now: Date, limit?: number): Promise<EventTypeRow[]> {
      const since24 = new Date(now.getTime() - 86_400_000);
      const since7 = new Date(now.getTime() - 7 * 86_400_000);
      const nameless = sql`(et.type IN ('identify', 'group', 'alias') OR et.name = '(unnamed)')`;
      const window = sql`e.received_at > ${since7} AND e.received_at <= ${now}`;
      const res = await sql<{
        type: EventKind; name: string; first_seen: Date; last_seen: Date; sample: Record<string, unknown>;
        c24: string; c7: string;
      }>`
        SELECT et.type, et.name, et.first_seen, et.last_seen, et.sample, c.c24, c.c7
        FROM event_types et
        CROSS JOIN LATERAL (
          SELECT count(*) FILTER (WHERE x.received_at > ${since24}) AS c24, count(*) AS c7
          FROM (
            SELECT e.received_at FROM events e
            WHERE e.workspace_id = et.workspace_id AND e.type = et.type AND e.name = et.name AND ${window}
            UNION ALL
            SELECT e.received_at FROM events e
            WHERE ${nameless} AND e.workspace_id = et.workspace_id AND e.type = et.type AND e.name IS NULL AND ${window}
            UNION ALL
            SELECT e.received_at FROM events e
            WHERE ${nameless} AND e.workspace_id = et.workspace_id AND e.type = et.type AND e.name = '' AND ${window}
          ) x
        ) c
        WHERE et.workspace_id = ${ws} ${filterSql('et', f)}
        ORDER BY et.type, et.name
        ${limit !== undefined ? sql`LIMIT ${limit}` : sql``}`.execute(db);
      return res.rows.map((r) => ({
        type: r.type, name: r.name, firstSeen: r.first_seen, lastSeen: r.last_seen, sample: r.sample,
        count24h: Number(r.c24), count7d: Number(r.c7),
      }));
    },

    async listProperties(ws: string, f: CatalogFilter): Promise<PropertyRow[]> {
      const res = await sql<{
        type: string; name: string; path: string; data_type: string; seen_types: string[]; first_seen: Date; last_seen: Date;
      }>`
        SELECT p.type, p.name, p.path, p.data_type, p.seen_types, p.first_seen, p.last_seen
        FROM event_type_properties p
        WHERE p.workspace_id = ${ws} ${filterSql('p', f)}
        ORDER BY p.type, p.name, p.path`.execute(db);
      return res.rows.map((r) => ({
        type: r.type, name: r.name, path: r.path, dataType: r.data_type, seenTypes: r.seen_types,
        firstSeen: r.first_seen, lastSeen: r.last_seen,
      }));
    },

    /** The latest perType changes of each event type, newest first. */
    async recentChanges(ws: string, f: CatalogFilter, perType: number): Promise<TypeChange[]> {
      const res = await sql<{ type: string; name: string; path: string; from_type: string; to_type: string; changed_at: Date }>`
        SELECT r.type, r.name, r.path, r.from_type, r.to_type, r.changed_at FROM (
          SELECT c.*, row_number() OVER (PARTITION BY c.type, c.name ORDER BY c.changed_at DESC, c.id DESC) AS rn
          FROM event_type_changes c
          WHERE c.workspace_id = ${ws} ${filterSql('c', f)}
        ) r
        WHERE r.rn <= ${perType}
        ORDER BY r.type, r.name, r.changed_at DESC, r.id DESC`.execute(db);
      return res.rows.map((r) => ({
        type: r.type, name: r.name, path: r.path, fromType: r.from_type, toType: r.to_type, changedAt: r.changed_at,
      }));
    },
  };
}

export type CatalogRepo = ReturnType<typeof createCatalogRepo>;
