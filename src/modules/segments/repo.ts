// SQL for segments: definitions, members and their history, the dirty queue, compiled evaluations.
import { sql, type RawBuilder } from 'kysely';
import type { Queryable, Tx } from '../../db/pool.ts';
import type { Condition } from './definition.ts';
import type { Segment, SegmentDeps } from './types.ts';

interface SegmentRow {
  id: string; key: string; name: string; description: string; kind: 'dynamic' | 'manual'; definition: unknown;
  deps: Record<string, unknown>; time_based: boolean; version: number; status: 'building' | 'ready';
  evaluated_at: Date | null; created_at: Date; updated_at: Date;
}

const toSegment = (r: SegmentRow): Segment => ({
  id: r.id, key: r.key, name: r.name, description: r.description, kind: r.kind,
  definition: (r.definition ?? null) as Condition | null, deps: r.deps as unknown as SegmentDeps, timeBased: r.time_based,
  version: r.version, status: r.status, evaluatedAt: r.evaluated_at, createdAt: r.created_at, updatedAt: r.updated_at,
});

const COLUMNS = ['id', 'key', 'name', 'description', 'kind', 'definition', 'deps', 'time_based', 'version', 'status', 'evaluated_at', 'created_at', 'updated_at'] as const;

/** The first key of segments' advisory locks (the second is a hash of workspace and segment). */
const LOCK_SPACE = 7_710_011;

/** Evaluations read many rows: give hashes room so that IN (…) stays a hashed sub-plan. */
async function roomy(tx: Queryable): Promise<void> {
  await sql`SET LOCAL work_mem = '128MB'`.execute(tx);
}

export interface SegmentInsert {
  id: string; key: string; name: string; description: string; kind: 'dynamic' | 'manual';
  definition: Condition | null; deps: SegmentDeps; timeBased: boolean; at: Date;
}

export function createSegmentsRepo() {
  return {
    async insert(db: Queryable, ws: string, s: SegmentInsert): Promise<Segment | undefined> {
      const row = await db.insertInto('segments').values({
        workspace_id: ws, id: s.id, key: s.key, name: s.name, description: s.description, kind: s.kind,
        definition: s.definition === null ? null : JSON.stringify(s.definition), deps: JSON.stringify(s.deps),
        time_based: s.timeBased, status: s.kind === 'manual' ? 'ready' : 'building', created_at: s.at, updated_at: s.at,
      }).onConflict((oc) => oc.columns(['workspace_id', 'key']).doNothing()).returning(COLUMNS).executeTakeFirst();
      return row ? toSegment(row) : undefined;
    },

    async update(db: Queryable, ws: string, id: string, s: Omit<SegmentInsert, 'id' | 'kind'>, rebuild: boolean): Promise<Segment | undefined> {
      const row = await db.updateTable('segments').set((eb) => ({
        key: s.key, name: s.name, description: s.description,
        definition: s.definition === null ? null : JSON.stringify(s.definition), deps: JSON.stringify(s.deps),
        time_based: s.timeBased, updated_at: s.at, version: eb('version', '+', 1),
        ...(rebuild ? { status: 'building' as const } : {}),
      })).where('workspace_id', '=', ws).where('id', '=', id).returning(COLUMNS).executeTakeFirst();
      return row ? toSegment(row) : undefined;
    },

    async find(db: Queryable, ws: string, idOrKey: string): Promise<Segment | undefined> {
      const row = await db.selectFrom('segments').select(COLUMNS).where('workspace_id', '=', ws)
        .where((eb) => eb.or([eb('id', '=', idOrKey), eb('key', '=', idOrKey)])).orderBy(sql`id = ${idOrKey}`, 'desc').executeTakeFirst();
      return row ? toSegment(row) : undefined;
    },

    async findMany(db: Queryable, ws: string, idsOrKeys: string[]): Promise<Segment[]> {
      if (idsOrKeys.length === 0) return [];
      const rows = await db.selectFrom('segments').select(COLUMNS).where('workspace_id', '=', ws)
        .where((eb) => eb.or([eb('id', 'in', idsOrKeys), eb('key', 'in', idsOrKeys)])).execute();
      return rows.map((r) => toSegment(r));
    },

    async list(db: Queryable, ws: string): Promise<Segment[]> {
      const rows = await db.selectFrom('segments').select(COLUMNS).where('workspace_id', '=', ws).orderBy('key').execute();
      return rows.map((r) => toSegment(r));
    },

    /** Dynamic segments whose membership may change with time, across workspaces. */
    async listTimeBased(db: Queryable): Promise<Array<{ workspaceId: string; segment: Segment }>> {
      const rows = await db.selectFrom('segments').select([...COLUMNS, 'workspace_id']).where('kind', '=', 'dynamic')
        .where('time_based', '=', true).where('status', '=', 'ready').execute();
      return rows.map((r) => ({ workspaceId: r.workspace_id, segment: toSegment(r as SegmentRow) }));
    },

    async listDynamic(db: Queryable, ws: string): Promise<Segment[]> {
      const rows = await db.selectFrom('segments').select(COLUMNS).where('workspace_id', '=', ws).where('kind', '=', 'dynamic').execute();
      return rows.map((r) => toSegment(r));
    },

    async hasDynamic(db: Queryable, ws: string): Promise<boolean> {
      const row = await db.selectFrom('segments').select('id').where('workspace_id', '=', ws).where('kind', '=', 'dynamic').limit(1).executeTakeFirst();
      return row !== undefined;
    },

    async remove(db: Queryable, ws: string, id: string): Promise<boolean> {
      const res = await db.deleteFrom('segments').where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    },

    /** Segments whose definitions refer to this one (by id or key). */
    async referencedBy(db: Queryable, ws: string, s: { id: string; key: string }): Promise<Array<{ id: string; key: string }>> {
      return db.selectFrom('segments').select(['id', 'key']).where('workspace_id', '=', ws).where('id', '<>', s.id)
        .where(sql<boolean>`deps -> 'segments' ?| ${[s.id, s.key]}::text[]`).execute();
    },

    async markReady(db: Queryable, ws: string, id: string, version: number, at: Date): Promise<void> {
      await db.updateTable('segments').set({ status: 'ready', evaluated_at: at }).where('workspace_id', '=', ws).where('id', '=', id)
        .where('version', '=', version).execute();
    },

    async memberCounts(db: Queryable, ws: string, ids: string[]): Promise<Map<string, number>> {
      if (ids.length === 0) return new Map();
      const rows = await db.selectFrom('segment_members').select(['segment_id', sql<string>`count(*)`.as('n')]).where('workspace_id', '=', ws)
        .where('segment_id', 'in', ids).groupBy('segment_id').execute();
      return new Map(rows.map((r) => [r.segment_id, Number(r.n)]));
    },

    topicsByKey(db: Queryable, ws: string, keys: string[]) {
      if (keys.length === 0) return Promise.resolve([]);
      return db.selectFrom('topics').select(['id', 'key', 'default_state']).where('workspace_id', '=', ws).where('key', 'in', keys).execute();
    },

    templatesByRef(db: Queryable, ws: string, refs: string[]) {
      if (refs.length === 0) return Promise.resolve([]);
      return db.selectFrom('content_resources').select(['id', 'name']).where('workspace_id', '=', ws).where('kind', '=', 'template')
        .where((eb) => eb.or([eb('id', 'in', refs), eb('name', 'in', refs)])).execute();
    },

    // ---- evaluation ----

    async count(db: Queryable, ws: string, cond: RawBuilder<boolean>): Promise<number> {
      return db.transaction().execute(async (tx) => {
        await roomy(tx);
        const r = await sql<{ n: string }>`SELECT count(*) AS n FROM people p WHERE p.workspace_id = ${ws} AND ${cond}`.execute(tx);
        return Number(r.rows[0]?.n ?? 0);
      });
    },

    sample(db: Queryable, ws: string, cond: RawBuilder<boolean>, limit: number) {
      return sql<{ id: string; external_id: string | null; email: string | null; attributes: Record<string, unknown> }>`
        SELECT p.id, p.external_id, p.email, p.attributes FROM people p WHERE p.workspace_id = ${ws} AND ${cond} LIMIT ${limit}`
        .execute(db).then((r) => r.rows);
    },

    selectSql(ws: string, cond: RawBuilder<boolean>): RawBuilder<{ id: string }> {
      return sql<{ id: string }>`SELECT p.id FROM people p WHERE p.workspace_id = ${ws} AND ${cond}`;
    },

    /** One row for one person: each expression's value, as columns c0, c1, … */
    async evaluateFor(db: Queryable, ws: string, personId: string, exprs: RawBuilder<unknown>[]): Promise<unknown[] | undefined> {
      const cols = exprs.map((e, i) => sql`${e} AS ${sql.raw(`c${i}`)}`);
      const r = await sql<Record<string, unknown>>`SELECT ${sql.join(cols)} FROM people p WHERE p.workspace_id = ${ws} AND p.id = ${personId}`.execute(db);
      const row = r.rows[0];
      return row ? exprs.map((_, i) => row[`c${i}`]) : undefined;
    },

    /**
     * Brings stored membership in line with the definition, for everyone or for `ids` only: new members
     * enter, people who no longer match exit, each change recorded. Runs in the caller's transaction.
     * Entries rely on ON CONFLICT DO NOTHING, never on an anti-join against segment_members: a segment
     * being filled has statistics that say "one member", and PostgreSQL then scans every member for
     * each candidate (2,000 x 11,000 rows, 23 s, seen in bench:segments).
     */
    async diff(tx: Tx, ws: string, segmentId: string, cond: RawBuilder<boolean>, ids: string[] | null, reason: string, at: Date): Promise<{ entered: string[]; exited: string[] }> {
      await roomy(tx);
      const record = (changes: RawBuilder<unknown>) => sql<{ change: 'entered' | 'exited'; person_id: string }>`
        ${changes},
        changes AS (SELECT person_id, 'entered' AS change FROM ins UNION ALL SELECT person_id, 'exited' FROM del),
        hist AS (
          INSERT INTO segment_changes (workspace_id, segment_id, person_id, change, reason, at)
          SELECT ${ws}, ${segmentId}, person_id, change, ${reason}, ${at}::timestamptz FROM changes)
        SELECT change, person_id FROM changes`.execute(tx);
      let r;
      if (ids) {
        // Some people (the drain): who matches, then the writes with both lists as constants. The
        // exits are found by one index probe per person (LATERAL ... LIMIT 1 cannot become a scan).
        const cur = await sql<{ id: string }>`SELECT p.id FROM people p WHERE p.workspace_id = ${ws} AND p.id = ANY(${ids}::uuid[]) AND ${cond}`.execute(tx);
        const inNow = cur.rows.map((x) => x.id);
        const matched = new Set(inNow);
        const out = ids.filter((id) => !matched.has(id));
        r = await record(sql`WITH
          ins AS (
            INSERT INTO segment_members (workspace_id, segment_id, person_id, entered_at)
            SELECT ${ws}, ${segmentId}, x, ${at}::timestamptz FROM unnest(${inNow}::uuid[]) AS x
            ON CONFLICT DO NOTHING RETURNING person_id),
          del AS (
            DELETE FROM segment_members m WHERE m.workspace_id = ${ws} AND m.segment_id = ${segmentId} AND m.ctid = ANY(ARRAY(
              SELECT x.ctid FROM unnest(${out}::uuid[]) AS g(id)
              CROSS JOIN LATERAL (SELECT ctid FROM segment_members s
                WHERE s.workspace_id = ${ws} AND s.segment_id = ${segmentId} AND s.person_id = g.id LIMIT 1) x))
            RETURNING m.person_id)`);
      } else {
        r = await record(sql`WITH
          cur AS MATERIALIZED (SELECT p.id FROM people p WHERE p.workspace_id = ${ws} AND ${cond}),
          ins AS (
            INSERT INTO segment_members (workspace_id, segment_id, person_id, entered_at)
            SELECT ${ws}, ${segmentId}, c.id, ${at}::timestamptz FROM cur c
            ON CONFLICT DO NOTHING RETURNING person_id),
          del AS (
            DELETE FROM segment_members m WHERE m.workspace_id = ${ws} AND m.segment_id = ${segmentId}
            AND NOT EXISTS (SELECT 1 FROM cur c WHERE c.id = m.person_id) RETURNING person_id)`);
      }
      const entered: string[] = [];
      const exited: string[] = [];
      for (const row of r.rows) (row.change === 'entered' ? entered : exited).push(row.person_id);
      return { entered, exited };
    },

    /**
     * Takes a segment's lock for the rest of the transaction: builds and ticks wait for it, the drain
     * only tries (false: busy). Evaluations of one segment then never interleave their writes.
     */
    async lockSegment(tx: Tx, ws: string, segmentId: string, opts: { wait: boolean }): Promise<boolean> {
      const key = sql`${LOCK_SPACE}::int, hashtext(${`${ws}/${segmentId}`})`;
      if (opts.wait) {
        await sql`SELECT pg_advisory_xact_lock(${key})`.execute(tx);
        return true;
      }
      const r = await sql<{ ok: boolean }>`SELECT pg_try_advisory_xact_lock(${key}) AS ok`.execute(tx);
      return r.rows[0]?.ok === true;
    },

    /**
     * A merge: the merged-away person leaves every segment and list, and the survivor joins the lists
     * they were on (dynamic segments re-evaluate the survivor through the drain). Recorded as `merged`.
     */
    async mergeMemberships(db: Queryable, ws: string, primary: string, secondary: string, at: Date): Promise<Array<{ change: 'entered' | 'exited'; segmentId: string }>> {
      const r = await sql<{ change: 'entered' | 'exited'; segment_id: string }>`
        WITH del AS (
          DELETE FROM segment_members WHERE workspace_id = ${ws} AND person_id = ${secondary} RETURNING segment_id),
        lists AS (
          INSERT INTO segment_members (workspace_id, segment_id, person_id, entered_at)
          SELECT ${ws}, d.segment_id, ${primary}, ${at}::timestamptz FROM del d
          JOIN segments s ON s.workspace_id = ${ws} AND s.id = d.segment_id AND s.kind = 'manual'
          ON CONFLICT DO NOTHING RETURNING segment_id),
        changes AS (
          SELECT segment_id, ${secondary}::uuid AS person_id, 'exited' AS change FROM del
          UNION ALL SELECT segment_id, ${primary}::uuid, 'entered' FROM lists),
        hist AS (
          INSERT INTO segment_changes (workspace_id, segment_id, person_id, change, reason, at)
          SELECT ${ws}, segment_id, person_id, change, 'merged', ${at}::timestamptz FROM changes)
        SELECT change, segment_id FROM changes`.execute(db);
      return r.rows.map((x) => ({ change: x.change, segmentId: x.segment_id }));
    },

    /** Transaction ids open now in this database, other than the caller's. */
    async openTransactions(db: Queryable): Promise<string[]> {
      const r = await sql<{ x: string }>`SELECT backend_xid::text AS x FROM pg_stat_activity
        WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()`.execute(db);
      return r.rows.map((x) => x.x);
    },

    /** How many of these transactions are still open. */
    async stillOpen(db: Queryable, xids: string[]): Promise<number> {
      const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND backend_xid::text = ANY(${xids}::text[])`.execute(db);
      return r.rows[0]?.n ?? 0;
    },

    // ---- members and history ----

    async isMember(db: Queryable, ws: string, segmentId: string, personId: string): Promise<boolean> {
      const r = await db.selectFrom('segment_members').select('person_id').where('workspace_id', '=', ws).where('segment_id', '=', segmentId)
        .where('person_id', '=', personId).executeTakeFirst();
      return r !== undefined;
    },

    /** Members in person-id order, after a cursor. */
    members(db: Queryable, ws: string, segmentId: string, page: { after?: string | undefined; limit: number }) {
      let q = db.selectFrom('segment_members as m').innerJoin('people as p', (j) => j.onRef('p.workspace_id', '=', 'm.workspace_id').onRef('p.id', '=', 'm.person_id'))
        .select(['p.id', 'p.external_id', 'p.email', 'p.phone', 'p.attributes', 'm.entered_at'])
        .where('m.workspace_id', '=', ws).where('m.segment_id', '=', segmentId);
      if (page.after) q = q.where('m.person_id', '>', page.after);
      return q.orderBy('m.person_id').limit(page.limit).execute();
    },

    /** Entries and exits, newest first, before a cursor (an id). */
    changes(db: Queryable, ws: string, segmentId: string, page: { before?: string | undefined; limit: number }) {
      let q = db.selectFrom('segment_changes').select(['id', 'person_id', 'change', 'reason', 'at'])
        .where('workspace_id', '=', ws).where('segment_id', '=', segmentId);
      if (page.before) q = q.where('id', '<', page.before);
      return q.orderBy('id', 'desc').limit(page.limit).execute();
    },

    ofPerson(db: Queryable, ws: string, personId: string) {
      return db.selectFrom('segment_members as m').innerJoin('segments as s', (j) => j.onRef('s.workspace_id', '=', 'm.workspace_id').onRef('s.id', '=', 'm.segment_id'))
        .select(['s.id', 's.key', 's.name', 's.kind', 'm.entered_at']).where('m.workspace_id', '=', ws).where('m.person_id', '=', personId)
        .orderBy('s.key').execute();
    },

    /** Every member, in batches (keyset pagination: no long-held cursor, no OFFSET). */
    async *exportBatches(db: Queryable, ws: string, segmentId: string, batch: number) {
      let after: string | undefined;
      for (;;) {
        const rows = await this.members(db, ws, segmentId, { after, limit: batch });
        if (rows.length === 0) return;
        yield rows;
        if (rows.length < batch) return;
        after = rows[rows.length - 1]!.id;
      }
    },

    // ---- manual lists ----

    async addMembers(tx: Queryable, ws: string, segmentId: string, personIds: string[], reason: string, at: Date): Promise<string[]> {
      if (personIds.length === 0) return [];
      const r = await sql<{ person_id: string }>`
        WITH ins AS (
          INSERT INTO segment_members (workspace_id, segment_id, person_id, entered_at)
          SELECT ${ws}, ${segmentId}, p.id, ${at}::timestamptz FROM people p
          WHERE p.workspace_id = ${ws} AND p.id = ANY(${personIds}::uuid[])
          ON CONFLICT DO NOTHING RETURNING person_id),
        hist AS (INSERT INTO segment_changes (workspace_id, segment_id, person_id, change, reason, at)
          SELECT ${ws}, ${segmentId}, person_id, 'entered', ${reason}, ${at}::timestamptz FROM ins)
        SELECT person_id FROM ins`.execute(tx);
      return r.rows.map((x) => x.person_id);
    },

    async removeMembers(tx: Queryable, ws: string, segmentId: string, personIds: string[], reason: string, at: Date): Promise<string[]> {
      if (personIds.length === 0) return [];
      const r = await sql<{ person_id: string }>`
        WITH del AS (
          DELETE FROM segment_members WHERE workspace_id = ${ws} AND segment_id = ${segmentId} AND person_id = ANY(${personIds}::uuid[])
          RETURNING person_id),
        hist AS (INSERT INTO segment_changes (workspace_id, segment_id, person_id, change, reason, at)
          SELECT ${ws}, ${segmentId}, person_id, 'exited', ${reason}, ${at}::timestamptz FROM del)
        SELECT person_id FROM del`.execute(tx);
      return r.rows.map((x) => x.person_id);
    },

    // ---- the dirty queue ----

    async peopleByAddress(db: Queryable, ws: string, channel: 'email' | 'sms', address: string): Promise<string[]> {
      const q = db.selectFrom('people').select('id').where('workspace_id', '=', ws);
      const rows = channel === 'email'
        ? await q.where(sql`lower(email)`, '=', address.toLowerCase()).where('email', 'is not', null).limit(1000).execute()
        : await q.where('phone', '=', address).limit(1000).execute();
      return rows.map((r) => r.id);
    },

    async markDirty(db: Queryable, ws: string, personIds: string[], what: string[], at: Date): Promise<void> {
      if (personIds.length === 0) return;
      await sql`INSERT INTO segment_dirty (workspace_id, person_id, what, at)
        SELECT ${ws}, pid, ${what}::text[], ${at}::timestamptz FROM unnest(${personIds}::uuid[]) AS pid`.execute(db);
    },

    /** NOTIFY, sent when (and only if) the transaction commits. */
    async notify(db: Queryable, channel: string): Promise<void> {
      await sql`SELECT pg_notify(${channel}, '')`.execute(db);
    },

    async hasDirty(db: Queryable): Promise<boolean> {
      const r = await sql<{ x: number }>`SELECT 1 AS x FROM segment_dirty LIMIT 1`.execute(db);
      return r.rows.length > 0;
    },

    /** Claims up to `limit` dirty rows (deleted at commit; returned to the queue if the transaction fails). */
    async claimDirty(tx: Tx, limit: number): Promise<Array<{ workspace_id: string; person_id: string; what: string[] }>> {
      const r = await sql<{ workspace_id: string; person_id: string; what: string[] }>`
        DELETE FROM segment_dirty WHERE id IN (SELECT id FROM segment_dirty ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING workspace_id, person_id, what`.execute(tx);
      return r.rows;
    },
  };
}

export type SegmentsRepo = ReturnType<typeof createSegmentsRepo>;
