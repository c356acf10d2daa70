// Keeping stored membership true: a full build when a segment is made or changed; real-time updates for
// the people whose events, attributes, consent or messages changed (the dirty queue, drained by a job
// that re-evaluates only the segments such a change can affect); and a tick that re-evaluates
// segments with time windows, so people leave "purchased in the last 30 days" when the days pass.
import type { Task, TaskList } from 'graphile-worker';
import type { Clock } from '../../clock.ts';
import type { Db, Queryable, Tx } from '../../db/pool.ts';
import type { Logger } from '../../logger.ts';
import { enqueueJob } from '../../worker/jobs.ts';
import type { IngestObserver, StoredEvent } from '../ingest/index.ts';
import { compile, type Refs } from './compile.ts';
import { concerns } from './deps.ts';
import type { SegmentsRepo } from './repo.ts';
import type { Segment } from './types.ts';
import { DIRTY_CHANNEL, queueDrain } from './wakeup.ts';

export interface MembershipDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  repo: SegmentsRepo;
  tickSeconds: number;
  resolve(q: Queryable, ws: string, s: Segment): Promise<Refs>;
}

/** New segments are built after this delay, by which every process's "has segments" cache has expired. */
export const CACHE_MS = 2_000;
const DRAIN_BATCH = 2_000;
const DRAIN_MAX_BATCHES = 50;

export type SegmentChangeHook = (tx: Tx, ws: string, c: { segmentId: string; entered: string[]; exited: string[]; reason: string }) => Promise<void>;

export function createMembership(deps: MembershipDeps) {
  const { db, clock, log, repo } = deps;
  const hasSegments = new Map<string, { value: boolean; at: number }>();
  const hooks: SegmentChangeHook[] = [];

  async function workspaceHasSegments(q: Queryable, ws: string): Promise<boolean> {
    const hit = hasSegments.get(ws);
    const now = Date.now();
    if (hit && now - hit.at < CACHE_MS) return hit.value;
    const value = await repo.hasDynamic(q, ws);
    hasSegments.set(ws, { value, at: now });
    return value;
  }

  async function apply(tx: Tx, ws: string, s: Segment, ids: string[] | null, reason: string): Promise<{ entered: number; exited: number }> {
    if (!s.definition) return { entered: 0, exited: 0 };
    const at = clock.now();
    const refs = await deps.resolve(tx, ws, s);
    const cond = compile(s.definition, { workspaceId: ws, now: at, refs, only: ids ?? undefined });
    const { entered, exited } = await repo.diff(tx, ws, s.id, cond, ids, reason, at);
    if (entered.length + exited.length > 0) {
      for (const h of hooks) await h(tx, ws, { segmentId: s.id, entered, exited, reason });
    }
    return { entered: entered.length, exited: exited.length };
  }

  async function markDirty(q: Queryable, ws: string, personIds: string[], what: string[]): Promise<void> {
    if (personIds.length === 0 || what.length === 0) return;
    if (!(await workspaceHasSegments(q, ws))) return;
    await repo.markDirty(q, ws, [...new Set(personIds)], what, clock.now());
    // Heard at commit by the workers' listeners, which queue the drain (wakeup.ts).
    await repo.notify(q, DIRTY_CHANNEL);
  }

  const membership = {
    /** Called by other modules (and the ingest observer) in the transaction that changed these people. */
    markDirty,

    /** Whether a change in this workspace can move anyone (it has dynamic segments; cached 2 s). */
    watches: (ws: string) => workspaceHasSegments(db, ws),

    /** Changes recorded by a build, the drain, the tick or a list edit (journeys listen here). */
    onChange(h: SegmentChangeHook): void {
      hooks.push(h);
    },

    notify: async (tx: Tx, ws: string, c: { segmentId: string; entered: string[]; exited: string[]; reason: string }) => {
      for (const h of hooks) await h(tx, ws, c);
    },

    forget(ws: string): void {
      hasSegments.delete(ws);
    },

    async scheduleBuild(q: Queryable, ws: string, s: Segment): Promise<void> {
      hasSegments.delete(ws);
      await enqueueJob(q, 'segments:build', { workspaceId: ws, segmentId: s.id, version: s.version },
        { runAt: new Date(clock.now().getTime() + CACHE_MS), jobKey: `segments:build:${ws}:${s.id}`, maxAttempts: 10 });
    },

    /** Evaluates a segment for everyone and records who entered and exited. */
    async rebuild(ws: string, s: Segment, reason = 'build'): Promise<{ entered: number; exited: number; ms: number }> {
      const t0 = performance.now();
      const r = await db.transaction().execute(async (tx) => {
        const out = await apply(tx, ws, s, null, reason);
        await repo.markReady(tx, ws, s.id, s.version, clock.now());
        return out;
      });
      return { ...r, ms: Math.round(performance.now() - t0) };
    },

    /** Drains the dirty queue: returns how many people were re-evaluated. */
    async drain(): Promise<number> {
      let done = 0;
      for (let b = 0; b < DRAIN_MAX_BATCHES; b++) {
        const n = await db.transaction().execute(async (tx) => {
          const rows = await repo.claimDirty(tx, DRAIN_BATCH);
          const byWs = new Map<string, Map<string, Set<string>>>();
          for (const r of rows) {
            const people = byWs.get(r.workspace_id) ?? new Map<string, Set<string>>();
            byWs.set(r.workspace_id, people);
            const what = people.get(r.person_id) ?? new Set<string>();
            for (const w of r.what) what.add(w);
            people.set(r.person_id, what);
          }
          for (const [ws, people] of byWs) {
            for (const s of await repo.listDynamic(tx, ws)) {
              const ids: string[] = [];
              const kinds = new Set<string>();
              for (const [pid, what] of people) {
                const hit = [...what].filter((w) => concerns(s.deps, w));
                if (hit.length > 0) {
                  ids.push(pid);
                  for (const w of hit) kinds.add(w.startsWith('event:') ? 'event' : w);
                }
              }
              if (ids.length > 0) await apply(tx, ws, s, ids, [...kinds].sort().join(','));
            }
          }
          return rows.length;
        });
        done += n;
        if (n < DRAIN_BATCH) break;
      }
      return done;
    },

    /** Re-evaluates every segment with a time window; returns how many segments were evaluated. */
    async tick(): Promise<number> {
      const segs = await repo.listTimeBased(db);
      for (const { workspaceId, segment } of segs) {
        try {
          const r = await db.transaction().execute((tx) => apply(tx, workspaceId, segment, null, 'time'));
          if (r.entered + r.exited > 0) log.debug({ workspaceId, segmentId: segment.id, ...r }, 'segment re-evaluated on time');
        } catch (err) {
          log.error({ err, workspaceId, segmentId: segment.id }, 'time-based segment evaluation failed');
        }
      }
      return segs.length;
    },

    /** The ingest observer: track events and attribute changes mark their people dirty. */
    observer: {
      async onEventsStored(tx: Tx, ws: string, events: StoredEvent[]): Promise<void> {
        const byWhat = new Map<string, Set<string>>();
        const add = (what: string, pid: string) => {
          const s = byWhat.get(what) ?? new Set<string>();
          s.add(pid);
          byWhat.set(what, s);
        };
        for (const e of events) {
          if (!e.personId) continue;
          if (e.type === 'track' && e.name) add(`event:${e.name}`, e.personId);
          else if (e.type === 'identify') add('attributes', e.personId);
          else if (e.type === 'group') add('groups', e.personId);
          else if (e.type === 'alias') add('all', e.personId);
        }
        if (byWhat.size === 0 || !(await workspaceHasSegments(tx, ws))) return;
        // One row per person with everything that changed for them.
        const perPerson = new Map<string, string[]>();
        for (const [what, pids] of byWhat) for (const pid of pids) perPerson.set(pid, [...(perPerson.get(pid) ?? []), what]);
        const groups = new Map<string, string[]>();
        for (const [pid, what] of perPerson) {
          const k = what.sort().join('\n');
          groups.set(k, [...(groups.get(k) ?? []), pid]);
        }
        for (const [k, pids] of groups) await markDirty(tx, ws, pids, k.split('\n'));
      },
    } satisfies IngestObserver,

    tasks(resolveSegment: (ws: string, id: string) => Promise<Segment | undefined>): TaskList {
      const build: Task = async (payload) => {
        const p = payload as { workspaceId: string; segmentId: string; version: number };
        const s = await resolveSegment(p.workspaceId, p.segmentId);
        if (!s || s.version !== p.version) return; // deleted or changed since: a newer build is queued
        const r = await membership.rebuild(p.workspaceId, s, s.version === 1 ? 'build' : 'definition_changed');
        log.info({ workspaceId: p.workspaceId, segmentId: s.id, ...r }, 'segment built');
      };
      const drain: Task = async () => {
        await membership.drain();
      };
      const tick: Task = async (_payload, helpers) => {
        await membership.tick();
        // The safety net of the listeners: dirty rows whose notification nobody heard.
        if (await repo.hasDirty(db)) await queueDrain(db);
        // Again in tickSeconds (the crontab line restarts the chain should it ever break).
        await helpers.addJob('segments:tick', {}, { runAt: new Date(Date.now() + deps.tickSeconds * 1000), jobKey: 'segments:tick:next' });
      };
      return { 'segments:build': build, 'segments:drain': drain, 'segments:tick': tick };
    },
  };
  return membership;
}

export type Membership = ReturnType<typeof createMembership>;
