// Keeping stored membership true: a full build when a segment is made or changed; real-time updates for
// the people whose events, attributes, consent or messages changed (the dirty queue, drained by a job
// that re-evaluates only the segments such a change can affect); and a tick that re-evaluates
// segments with time windows, so people leave "purchased in the last 30 days" when the days pass.
import type { Task, TaskList } from 'graphile-worker';
import type { Clock } from '../../clock.ts';
import type { Db, Queryable, Tx } from '../../db/pool.ts';
import type { Logger } from '../../logger.ts';
import type { Metrics } from '../../metrics.ts';
import { enqueueJob } from '../../worker/jobs.ts';
import type { IngestObserver, PeopleTouched, StoredEvent } from '../ingest/index.ts';
import { compile, type Refs } from './compile.ts';
import { ALL, CREATED, MERGED } from './deps.ts';
import { groupDirty, pick, scopedTo } from './drain.ts';
import type { SegmentsRepo } from './repo.ts';
import type { Segment } from './types.ts';
import { DIRTY_CHANNEL, queueDrain } from './wakeup.ts';

export interface MembershipDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  repo: SegmentsRepo;
  tickSeconds: number;
  /** How long "this workspace has (no) dynamic segments" is trusted (TANDEM_SEGMENT_CACHE_MS). */
  cacheMs: number;
  resolve(q: Queryable, ws: string, s: Segment): Promise<Refs>;
  metrics: Pick<Metrics, 'segmentDrains' | 'segmentDrainPeople' | 'segmentDrainDuration'>;
}

/** How long resolved references are reused (keyed by segment version). */
export const CACHE_MS = 2_000;
/**
 * A workspace's first dynamic segment must not miss people changed by calls that did not mark them
 * because their process still believed "no dynamic segments" (cached for cacheMs). So a new or changed
 * segment is built once every process's belief has expired since the save committed (the job is queued
 * in the save's transaction, and moved to cacheMs after the commit), and only after the transactions open
 * at that moment have ended. Real time, as the cache's: a test's fake clock must not make a build early.
 * The slack is for the job queued in the transaction, used only if the process stops before the commit's
 * second queuing.
 */
const BUILD_SLACK_MS = 1_000;
/** How long a build waits for the transactions open when it starts (then builds anyway, and says so). */
const BUILD_WAIT_MS = 30_000;
const DRAIN_BATCH = 2_000;
const DRAIN_MAX_BATCHES = 50;
/** How soon people put back by a drain (their segment was busy being built or ticked) are tried again. */
const BUSY_RETRY_MS = 250;

export type SegmentChangeHook = (tx: Tx, ws: string, c: { segmentId: string; entered: string[]; exited: string[]; reason: string }) => Promise<void>;

export function createMembership(deps: MembershipDeps) {
  const { db, clock, log, repo } = deps;
  const hasSegments = new Map<string, { value: boolean; at: number }>();
  const hooks: SegmentChangeHook[] = [];

  async function workspaceHasSegments(q: Queryable, ws: string): Promise<boolean> {
    const hit = hasSegments.get(ws);
    const now = Date.now();
    if (hit && now - hit.at < deps.cacheMs) return hit.value;
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

  function queueBuild(q: Queryable, ws: string, s: Segment, afterMs: number): Promise<void> {
    return enqueueJob(q, 'segments:build', { workspaceId: ws, segmentId: s.id, version: s.version },
      { runAt: new Date(Date.now() + afterMs), jobKey: `segments:build:${ws}:${s.id}`, maxAttempts: 10 });
  }

  /** Waits for the transactions of this database open now to end (those that may have trusted an old belief). */
  async function awaitOpenTransactions(): Promise<void> {
    const open = await repo.openTransactions(db);
    const end = Date.now() + BUILD_WAIT_MS;
    while (open.length > 0 && (await repo.stillOpen(db, open)) > 0) {
      if (Date.now() > end) {
        log.warn({ open: open.length }, 'segment build: transactions still open after 30 s; building anyway');
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
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

    /**
     * A merge, in its transaction, before the merged-away person is deleted: they leave every segment and
     * list (recorded, reason `merged`), the survivor joins the lists they were on, and every dynamic
     * segment re-evaluates the survivor, who may have gained or lost anything.
     */
    async mergePeople(tx: Queryable, ws: string, primary: string, secondary: string): Promise<void> {
      const moved = await repo.mergeMemberships(tx, ws, primary, secondary, clock.now());
      if (hooks.length > 0) {
        for (const m of moved) {
          const c = m.change === 'entered' ? { entered: [primary], exited: [] } : { entered: [], exited: [secondary] };
          for (const h of hooks) await h(tx as Tx, ws, { segmentId: m.segmentId, ...c, reason: MERGED });
        }
      }
      await markDirty(tx, ws, [primary], [MERGED]);
    },

    forget(ws: string): void {
      hasSegments.delete(ws);
    },

    /** In the save's transaction: the build job, durable with the segment. */
    async scheduleBuild(q: Queryable, ws: string, s: Segment): Promise<void> {
      hasSegments.delete(ws);
      await queueBuild(q, ws, s, deps.cacheMs + BUILD_SLACK_MS);
    },

    /** After the save committed: the build moves to cacheMs from now (same job key). */
    async saved(ws: string, s: Segment): Promise<void> {
      hasSegments.delete(ws);
      await queueBuild(db, ws, s, deps.cacheMs);
    },

    /** Evaluates a segment for everyone and records who entered and exited. */
    async rebuild(ws: string, s: Segment, reason = 'build'): Promise<{ entered: number; exited: number; ms: number }> {
      const t0 = performance.now();
      const r = await db.transaction().execute(async (tx) => {
        await repo.lockSegment(tx, ws, s.id, { wait: true });
        const out = await apply(tx, ws, s, null, reason);
        await repo.markReady(tx, ws, s.id, s.version, clock.now());
        return out;
      });
      return { ...r, ms: Math.round(performance.now() - t0) };
    },

    /**
     * Drains the dirty queue: returns how many people were re-evaluated. Each segment is evaluated under
     * its lock (repo.lockSegment): a build or a tick evaluates everyone from one snapshot and writes
     * later, so a drain committing in between would be undone by it. A segment that is busy is skipped
     * and its people are put back, scoped to it, for a drain shortly after.
     */
    async drain(): Promise<number> {
      const t0 = performance.now();
      let done = 0;
      for (let b = 0; b < DRAIN_MAX_BATCHES; b++) {
        const { n, busy } = await db.transaction().execute(async (tx) => {
          const rows = await repo.claimDirty(tx, DRAIN_BATCH);
          let busy = 0;
          for (const [ws, people] of groupDirty(rows)) {
            for (const s of await repo.listDynamic(tx, ws)) {
              const work = pick(people, s);
              if (work.ids.length === 0) continue;
              if (await repo.lockSegment(tx, ws, s.id, { wait: false })) {
                await apply(tx, ws, s, work.ids, work.reason);
                continue;
              }
              busy += work.ids.length;
              const at = clock.now();
              for (const [pid, kinds] of work.kinds) await repo.markDirty(tx, ws, [pid], scopedTo(s.id, kinds), at);
            }
          }
          return { n: rows.length, busy };
        });
        done += n;
        // Not NOTIFY: that would wake a drain at once, to find the segment still busy.
        if (busy > 0) await queueDrain(db, BUSY_RETRY_MS);
        if (n < DRAIN_BATCH) break;
      }
      deps.metrics.segmentDrains.inc();
      deps.metrics.segmentDrainPeople.inc(done);
      deps.metrics.segmentDrainDuration.observe((performance.now() - t0) / 1000);
      return done;
    },

    /** Re-evaluates every segment with a time window; returns how many segments were evaluated. */
    async tick(): Promise<number> {
      const segs = await repo.listTimeBased(db);
      for (const { workspaceId, segment } of segs) {
        try {
          const r = await db.transaction().execute(async (tx) => {
            await repo.lockSegment(tx, workspaceId, segment.id, { wait: true });
            return apply(tx, workspaceId, segment, null, 'time');
          });
          if (r.entered + r.exited > 0) log.debug({ workspaceId, segmentId: segment.id, ...r }, 'segment re-evaluated on time');
        } catch (err) {
          log.error({ err, workspaceId, segmentId: segment.id }, 'time-based segment evaluation failed');
        }
      }
      return segs.length;
    },

    /**
     * The ingest observer: track events and attribute changes mark their people dirty; a new person is
     * marked `created`, which every dynamic segment re-evaluates (they may match by what they never did).
     */
    observer: {
      async onEventsStored(tx: Tx, ws: string, events: StoredEvent[], people?: PeopleTouched): Promise<void> {
        const perPerson = new Map<string, Set<string>>();
        const add = (what: string, pid: string) => {
          const s = perPerson.get(pid) ?? new Set<string>();
          s.add(what);
          perPerson.set(pid, s);
        };
        for (const e of events) {
          if (!e.personId) continue;
          if (e.type === 'track' && e.name) add(`event:${e.name}`, e.personId);
          else if (e.type === 'identify') add('attributes', e.personId);
          else if (e.type === 'group') add('groups', e.personId);
          else if (e.type === 'alias') add(ALL, e.personId);
        }
        for (const pid of people?.changed ?? []) add('attributes', pid);
        for (const pid of people?.created ?? []) perPerson.set(pid, new Set([CREATED]));
        if (perPerson.size === 0 || !(await workspaceHasSegments(tx, ws))) return;
        // One row per person with everything that changed for them.
        const groups = new Map<string, string[]>();
        for (const [pid, what] of perPerson) {
          const k = [...what].sort().join('\n');
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
        await awaitOpenTransactions();
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
