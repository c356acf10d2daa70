// Segments: dynamic segments (a definition compiled to SQL) and manual lists; previews that count and
// explain; members, their history and exports. Keeping membership current is membership.ts.
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { RawBuilder } from 'kysely';
import type pg from 'pg';
import type { Clock } from '../../clock.ts';
import type { Db, Queryable, Tx } from '../../db/pool.ts';
import { AppError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { compile, type Refs } from './compile.ts';
import { condition, isTimeBased, type Condition } from './definition.ts';
import { depsOf } from './deps.ts';
import { explain, type ExplainNode } from './explain.ts';
import { createMembership, CACHE_MS, type MembershipDeps } from './membership.ts';
import { startDrainWakeup } from './wakeup.ts';
import { resolveRefs } from './refs.ts';
import { createSegmentsRepo } from './repo.ts';
import type { Segment } from './types.ts';
import { warningsFor, type CatalogReader, type SegmentWarning } from './warnings.ts';

export interface SegmentsDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  tickSeconds: number;
  /** TANDEM_SEGMENT_CACHE_MS (membership.ts). */
  cacheMs: number;
  catalog: CatalogReader;
  metrics: MembershipDeps['metrics'];
}

export interface SegmentInput {
  key: string;
  name: string;
  description?: string | undefined;
  kind?: 'dynamic' | 'manual' | undefined;
  definition?: unknown;
}

const KEY = /^[a-z0-9][a-z0-9_-]{0,99}$/;

/** Parses a definition, turning zod issues into request.invalid with the failing field. */
export function parseDefinition(raw: unknown, field = 'definition'): Condition {
  const r = condition.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const at = issue ? [field, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))].join('').replace(/\.\[/g, '[') : field;
  throw new AppError('request.invalid', `${at}: ${issue?.message ?? 'invalid definition'}`, { field: at });
}

export function createSegmentsService(deps: SegmentsDeps) {
  const { db, clock } = deps;
  const repo = createSegmentsRepo();
  const refsCache = new Map<string, { refs: Refs; at: number }>();

  async function resolveFor(q: Queryable, ws: string, s: Segment): Promise<Refs> {
    const k = `${ws}\n${s.id}\n${s.version}`;
    const hit = refsCache.get(k);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.refs;
    const refs = await resolveRefs(q, repo, ws, s.definition!, s);
    refsCache.set(k, { refs, at: Date.now() });
    return refs;
  }

  const membership = createMembership({ db, clock, log: deps.log, repo, tickSeconds: deps.tickSeconds, cacheMs: deps.cacheMs, resolve: resolveFor, metrics: deps.metrics });

  async function mustFind(q: Queryable, ws: string, idOrKey: string): Promise<Segment> {
    const s = await repo.find(q, ws, idOrKey);
    if (!s) throw new AppError('segment.not_found', undefined, { field: 'id' });
    return s;
  }

  async function prepared(ws: string, def: Condition): Promise<{ cond: RawBuilder<boolean>; refs: Refs; now: Date }> {
    const refs = await resolveRefs(db, repo, ws, def);
    const now = clock.now();
    return { cond: compile(def, { workspaceId: ws, now, refs }), refs, now };
  }

  async function validated(ws: string, input: SegmentInput, self?: { id: string; key: string }) {
    if (!KEY.test(input.key)) throw new AppError('request.invalid', 'key: lower-case letters, digits, "_" and "-"', { field: 'key' });
    const kind = input.kind ?? (input.definition === undefined ? 'manual' : 'dynamic');
    if (kind === 'manual') {
      if (input.definition !== undefined && input.definition !== null) throw new AppError('request.invalid', 'A manual list has no definition.', { field: 'definition' });
      return { kind, definition: null, deps: depsOf({ type: 'and', conditions: [] }, { segments: new Map(), topics: new Map(), templates: new Map() }), timeBased: false };
    }
    if (input.definition === undefined) throw new AppError('request.invalid', 'definition: a dynamic segment needs a definition', { field: 'definition' });
    const definition = parseDefinition(input.definition);
    const refs = await resolveRefs(db, repo, ws, definition, self);
    return { kind, definition, deps: depsOf(definition, refs), timeBased: isTimeBased(definition) || [...refs.segments.values()].some((s) => s.definition !== null && isTimeBased(s.definition)) };
  }

  const service = {
    membership,

    async list(ws: string): Promise<Array<Segment & { memberCount: number }>> {
      const all = await repo.list(db, ws);
      const counts = await repo.memberCounts(db, ws, all.map((s) => s.id));
      return all.map((s) => ({ ...s, memberCount: counts.get(s.id) ?? 0 }));
    },

    async get(ws: string, idOrKey: string): Promise<Segment & { memberCount: number }> {
      const s = await mustFind(db, ws, idOrKey);
      return { ...s, memberCount: (await repo.memberCounts(db, ws, [s.id])).get(s.id) ?? 0 };
    },

    async create(ws: string, input: SegmentInput): Promise<Segment> {
      const v = await validated(ws, input);
      const saved = await db.transaction().execute(async (tx) => {
        const s = await repo.insert(tx, ws, {
          id: `seg_${randomBytes(8).toString('hex')}`, key: input.key, name: input.name, description: input.description ?? '',
          kind: v.kind, definition: v.definition, deps: v.deps, timeBased: v.timeBased, at: clock.now(),
        });
        if (!s) throw new AppError('segment.key_taken', undefined, { field: 'key' });
        if (s.kind === 'dynamic') await membership.scheduleBuild(tx, ws, s);
        return s;
      });
      if (saved.kind === 'dynamic') await membership.saved(ws, saved);
      return saved;
    },

    /** Replaces name, key, description and (dynamic) definition; a new definition rebuilds membership. */
    async update(ws: string, idOrKey: string, input: SegmentInput): Promise<Segment> {
      const cur = await mustFind(db, ws, idOrKey);
      if (input.kind && input.kind !== cur.kind) throw new AppError('request.invalid', 'kind: a segment cannot change kind', { field: 'kind' });
      const v = await validated(ws, { ...input, kind: cur.kind }, cur);
      // Structurally, as stored: jsonb hands the definition back with its keys in another order and
      // without the keys the parser left undefined.
      const changed = !isDeepStrictEqual(JSON.parse(JSON.stringify(v.definition ?? null)), cur.definition ?? null);
      const saved = await db.transaction().execute(async (tx) => {
        if (input.key !== cur.key && (await repo.find(tx, ws, input.key))) throw new AppError('segment.key_taken', undefined, { field: 'key' });
        const s = await repo.update(tx, ws, cur.id, {
          key: input.key, name: input.name, description: input.description ?? cur.description, definition: v.definition,
          deps: v.deps, timeBased: v.timeBased, at: clock.now(),
        }, changed && cur.kind === 'dynamic');
        if (!s) throw new AppError('segment.not_found', undefined, { field: 'id' });
        if (changed && s.kind === 'dynamic') await membership.scheduleBuild(tx, ws, s);
        return s;
      });
      if (changed && saved.kind === 'dynamic') await membership.saved(ws, saved);
      return saved;
    },

    async remove(ws: string, idOrKey: string): Promise<void> {
      const s = await mustFind(db, ws, idOrKey);
      const users = await repo.referencedBy(db, ws, s);
      if (users.length > 0) {
        throw new AppError('segment.in_use', `Segments ${users.map((u) => `"${u.key}"`).join(', ')} refer to this one; change them first.`, { field: 'id', usedBy: users });
      }
      await repo.remove(db, ws, s.id);
      membership.forget(ws);
    },

    /** For a draft definition: how many people match, a sample of them, and warnings. */
    async preview(ws: string, rawDefinition: unknown, opts: { sample?: number } = {}) {
      const def = parseDefinition(rawDefinition);
      const t0 = performance.now();
      const { cond } = await prepared(ws, def);
      const [count, sample] = await Promise.all([repo.count(db, ws, cond), repo.sample(db, ws, cond, opts.sample ?? 10)]);
      const tookMs = Math.round(performance.now() - t0);
      return { count, sample, tookMs, warnings: await warningsFor(deps.catalog, ws, def, clock.now()) };
    },

    async count(ws: string, rawDefinition: unknown): Promise<number> {
      const { cond } = await prepared(ws, parseDefinition(rawDefinition));
      return repo.count(db, ws, cond);
    },

    /** The compiled query (SELECT p.id FROM people p WHERE …), for EXPLAIN and the benchmark. */
    async compiledSql(ws: string, rawDefinition: unknown): Promise<{ sql: string; parameters: readonly unknown[] }> {
      const { cond } = await prepared(ws, parseDefinition(rawDefinition));
      const q = repo.selectSql(ws, cond).compile(db);
      return { sql: q.sql, parameters: q.parameters };
    },

    /** Condition by condition: is this person in (a stored segment, or a draft definition), and why. */
    async explain(ws: string, target: { segment: string } | { definition: unknown }, personId: string): Promise<{ member: boolean; stored: boolean | null; tree: ExplainNode }> {
      let def: Condition;
      let segment: Segment | undefined;
      if ('segment' in target) {
        segment = await mustFind(db, ws, target.segment);
        if (!segment.definition) {
          const stored = await repo.isMember(db, ws, segment.id, personId);
          return { member: stored, stored, tree: { path: 'definition', type: 'segment', label: `is on the list "${segment.key}"`, result: stored } };
        }
        def = segment.definition;
      } else def = parseDefinition(target.definition);
      const refs = await resolveRefs(db, repo, ws, def, segment);
      const tree = await explain(def, { workspaceId: ws, now: clock.now(), refs }, (exprs) => repo.evaluateFor(db, ws, personId, exprs));
      if (!tree) throw new AppError('person.not_found', undefined, { field: 'personId' });
      return { member: tree.result, stored: segment ? await repo.isMember(db, ws, segment.id, personId) : null, tree };
    },

    async rebuild(ws: string, idOrKey: string): Promise<{ entered: number; exited: number; ms: number }> {
      const s = await mustFind(db, ws, idOrKey);
      if (s.kind !== 'dynamic') throw new AppError('segment.not_dynamic', undefined, { field: 'id' });
      return membership.rebuild(ws, s, 'rebuild');
    },

    async warnings(ws: string, idOrKey: string): Promise<SegmentWarning[]> {
      const s = await mustFind(db, ws, idOrKey);
      return s.definition ? warningsFor(deps.catalog, ws, s.definition, clock.now()) : [];
    },

    members: (ws: string, id: string, page: { after?: string | undefined; limit: number }) => repo.members(db, ws, id, page),
    changes: (ws: string, id: string, page: { before?: string | undefined; limit: number }) => repo.changes(db, ws, id, page),
    ofPerson: (ws: string, personId: string) => repo.ofPerson(db, ws, personId),
    exportBatches: (ws: string, id: string, batch = 5_000) => repo.exportBatches(db, ws, id, batch),

    // ---- manual lists (ImportListSink for the CSV import) ----

    async resolveList(ws: string, idOrKey: string): Promise<{ id: string }> {
      const s = await mustFind(db, ws, idOrKey);
      if (s.kind !== 'manual') throw new AppError('segment.not_manual', undefined, { field: 'list' });
      return { id: s.id };
    },

    async addToList(tx: Tx, ws: string, listId: string, personIds: string[], reason: string): Promise<number> {
      const added = await repo.addMembers(tx, ws, listId, personIds, reason, clock.now());
      if (added.length > 0) {
        await membership.notify(tx, ws, { segmentId: listId, entered: added, exited: [], reason });
        await membership.markDirty(tx, ws, added, ['lists']);
      }
      return added.length;
    },

    async removeFromList(tx: Tx, ws: string, listId: string, personIds: string[], reason: string): Promise<number> {
      const removed = await repo.removeMembers(tx, ws, listId, personIds, reason, clock.now());
      if (removed.length > 0) {
        await membership.notify(tx, ws, { segmentId: listId, entered: [], exited: removed, reason });
        await membership.markDirty(tx, ws, removed, ['lists']);
      }
      return removed.length;
    },

    /** Adds or removes people (by person id) on a manual list, in its own transaction. */
    async editList(ws: string, idOrKey: string, change: { add?: string[]; remove?: string[] }): Promise<{ added: number; removed: number }> {
      const { id } = await service.resolveList(ws, idOrKey);
      return db.transaction().execute(async (tx) => ({
        added: await service.addToList(tx, ws, id, change.add ?? [], 'api'),
        removed: await service.removeFromList(tx, ws, id, change.remove ?? [], 'api'),
      }));
    },

    /** Re-evaluates these people's segments soon (after the caller's transaction commits). */
    markDirty: (q: Queryable, ws: string, personIds: string[], what: string[]) => membership.markDirty(q, ws, personIds, what),

    /** In a merge's transaction, before the merged-away person is deleted (membership.ts). */
    mergePeople: (q: Queryable, ws: string, primary: string, secondary: string) => membership.mergePeople(q, ws, primary, secondary),

    /** Whether the workspace has dynamic segments, so that changes to its people are worth marking (cached). */
    watches: (ws: string) => membership.watches(ws),

    /** The same for the people with this address (a suppression names an address, not a person). */
    async markDirtyByAddress(q: Queryable, ws: string, channel: 'email' | 'sms', address: string, what: string[]): Promise<void> {
      await membership.markDirty(q, ws, await repo.peopleByAddress(q, ws, channel, address), what);
    },

    tasks: () => membership.tasks((ws, id) => repo.find(db, ws, id)),

    /** In a worker process: hear of dirty people and queue the drain (wakeup.ts). */
    listen: (pool: pg.Pool) => startDrainWakeup(pool, db, deps.log),
  };
  return service;
}

export type SegmentsService = ReturnType<typeof createSegmentsService>;
