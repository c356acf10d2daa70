// The catalog recorder: an IngestObserver that runs inside every ingest transaction.
//
// Steady state costs no SQL: a per-process cache holds, per (workspace, type, name), the known
// properties with their data type and seen types. A batch writes only when it brings something new
// (event type, property path, a type never seen for a path), or when the event type's last write is a
// minute old (REFRESH_MS): then last_seen of the type and of the properties seen since, the sample
// (the latest event) and the data type of each property are written. A property's data type is the
// non-null type most of the events observed since the last write had; when it differs from the
// stored one, a change is recorded. So last_seen is accurate to about a minute, a new type at a path
// shows in seen_types at once, and a property of mixed types records a change only when the mix
// tips, at most once a minute per process.
//
// A write ("sync") first upserts the event_types rows, sorted; that row lock serialises every writer of
// the type's properties across processes, so the stored properties read next are current and a change
// is detected against the STORED type (also right after a restart, with an empty cache). The cache
// learns from a sync only once its transaction has committed (checked with pg_xact_status at the next
// batch), so a rolled-back or retried ingest transaction cannot leave the cache ahead of the database.
import type { Clock } from '../../clock.ts';
import type { Tx } from '../../db/pool.ts';
import type { Logger } from '../../logger.ts';
import type { IngestObserver, StoredEvent } from '../ingest/index.ts';
import { catalogName, flattenProperties, type DataType } from './infer.ts';
import { createCatalogRepo, type PropertyUpsert, type StoredProperty, type TypeChange } from './repo.ts';

export const REFRESH_MS = 60_000;
/** Default caps (config: TANDEM_CATALOG_MAX_EVENT_TYPES, TANDEM_CATALOG_MAX_PROPERTIES). */
export const DEFAULT_LIMITS: CatalogLimits = { maxEventTypes: 1000, maxProperties: 500 };
/** How long a process remembers that an event type was left out at the cap before asking again. */
const CAPPED_RECHECK_MS = 60_000;

export interface CatalogLimits {
  /** Distinct (type, name) per workspace; events of later types are stored but not catalogued. */
  maxEventTypes: number;
  /** Property paths per event type; paths beyond it (usually data used as keys) are ignored. */
  maxProperties: number;
}
/** Cached event types per process; beyond it the cache starts over (the database stays right). */
const MAX_CACHED_TYPES = 50_000;
const SEP = '\u0000';

interface PathObs {
  /** Events seen per type. */
  counts: Map<DataType, number>;
  /** The latest non-null type, or 'null' if only null was seen. */
  latest: DataType;
}

/** The type most of the observed events had (null only if nothing else was seen; ties go to the latest). */
function dominant(ob: PathObs): DataType {
  let best: DataType = 'null';
  let bestCount = 0;
  for (const [type, n] of ob.counts) {
    if (type === 'null') continue;
    if (n > bestCount || (n === bestCount && type === ob.latest)) {
      best = type;
      bestCount = n;
    }
  }
  return best;
}

interface TypeObs {
  type: string;
  name: string;
  firstAt: Date;
  lastAt: Date;
  sample: Record<string, unknown>;
  paths: Map<string, PathObs>;
}

interface KnownProp {
  dataType: string;
  seen: Set<string>;
}

interface TypeState {
  /** clock ms of the last committed sync. */
  syncedAt: number;
  props: Map<string, KnownProp>;
  /** What batches without a write observed since the last sync; written at the next one. */
  pending: TypeObs | undefined;
}

interface Staged {
  xid: string;
  apply(): void;
}

export function createCatalogRecorder(deps: { clock: Clock; log: Logger; limits?: CatalogLimits }): IngestObserver & { resetCache(): void } {
  const { clock, log } = deps;
  const { maxEventTypes, maxProperties: MAX_PATHS_PER_TYPE } = deps.limits ?? DEFAULT_LIMITS;
  const cache = new Map<string, TypeState>();
  /** Event types left out at the cap, and when: skipped without SQL until CAPPED_RECHECK_MS has passed. */
  const capped = new Map<string, number>();
  let staged: Staged[] = [];
  let cappedWarned = false;
  let fullWarned = false;

  async function confirmStaged(tx: Tx): Promise<void> {
    if (staged.length === 0) return;
    const items = staged;
    staged = [];
    const status = await createCatalogRepo(tx).transactionStatus([...new Set(items.map((s) => s.xid))]);
    for (const s of items) {
      const st = status.get(s.xid);
      if (st === 'committed') s.apply();
      else if (st === 'in progress') staged.push(s);
      // aborted, or too old to tell: forget it; the next batch syncs again from the database.
    }
  }

  /**
   * Leaves out the event types the workspace has no room for (new ones beyond maxEventTypes). Concurrent
   * batches in other processes can each add up to the room they saw: the cap is approximate by that much.
   */
  async function withinCap(repo: ReturnType<typeof createCatalogRepo>, ws: string, items: Array<[string, TypeObs]>, nowMs: number): Promise<Array<[string, TypeObs]>> {
    const unknown = items.filter(([key]) => !cache.has(key));
    if (unknown.length === 0) return items;
    const { total, existing } = await repo.typeRoom(ws, unknown.map(([, o]) => ({ type: o.type, name: o.name })));
    let room = maxEventTypes - total;
    const out: Array<[string, TypeObs]> = [];
    for (const item of items) {
      const [key, o] = item;
      if (cache.has(key) || existing.has(o.type + SEP + o.name)) out.push(item);
      else if (room > 0) {
        room--;
        out.push(item);
      } else {
        if (capped.size >= MAX_CACHED_TYPES) capped.clear();
        capped.set(key, nowMs);
        if (!fullWarned) log.warn({ workspaceId: ws, type: o.type, name: o.name, max: maxEventTypes }, 'the catalog is full; events of new types are stored but not catalogued');
        fullWarned = true;
      }
    }
    return out;
  }

  async function sync(tx: Tx, ws: string, all: Array<[string, TypeObs]>, nowMs: number): Promise<void> {
    const repo = createCatalogRepo(tx);
    const items = await withinCap(repo, ws, all, nowMs);
    if (items.length === 0) return;
    items.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const xid = await repo.upsertTypes(ws, items.map(([, o]) => ({
      type: o.type, name: o.name, firstSeen: o.firstAt, lastSeen: o.lastAt, sample: o.sample,
    })));
    const stored = await repo.propertiesOf(ws, items.map(([, o]) => ({ type: o.type, name: o.name })));
    const storedByType = new Map<string, Map<string, StoredProperty>>();
    for (const p of stored) {
      const key = ws + SEP + p.type + SEP + p.name;
      let m = storedByType.get(key);
      if (!m) storedByType.set(key, (m = new Map<string, StoredProperty>()));
      m.set(p.path, p);
    }

    const upserts: PropertyUpsert[] = [];
    const changes: TypeChange[] = [];
    const learned: Array<[string, Map<string, KnownProp>]> = [];
    for (const [key, o] of items) {
      const storedProps = storedByType.get(key) ?? new Map<string, StoredProperty>();
      const known = new Map<string, KnownProp>();
      for (const p of storedProps.values()) known.set(p.path, { dataType: p.dataType, seen: new Set(p.seenTypes) });
      let count = storedProps.size;
      for (const path of [...o.paths.keys()].sort()) {
        const ob = o.paths.get(path)!;
        const s = storedProps.get(path);
        let dataType: string;
        let seen: Set<string>;
        if (!s) {
          if (count >= MAX_PATHS_PER_TYPE) {
            if (!cappedWarned) log.warn({ workspaceId: ws, type: o.type, name: o.name }, 'event type has too many properties; new ones are not catalogued');
            cappedWarned = true;
            continue;
          }
          count++;
          dataType = dominant(ob);
          seen = new Set(ob.counts.keys());
        } else {
          seen = new Set([...s.seenTypes, ...ob.counts.keys()]);
          dataType = s.dataType;
          const now = dominant(ob);
          if (now !== 'null' && now !== s.dataType) {
            // From null to a real type is the first real information, not a change.
            if (s.dataType !== 'null') changes.push({ type: o.type, name: o.name, path, fromType: s.dataType, toType: now, changedAt: o.lastAt });
            dataType = now;
          }
        }
        known.set(path, { dataType, seen });
        upserts.push({
          type: o.type, name: o.name, path, dataType, seenTypes: [...seen].sort(), firstSeen: o.firstAt, lastSeen: o.lastAt,
        });
      }
      learned.push([key, known]);
    }
    await repo.upsertProperties(ws, upserts);
    await repo.insertChanges(ws, changes);

    staged.push({
      xid,
      apply() {
        if (cache.size >= MAX_CACHED_TYPES) cache.clear();
        for (const [key, props] of learned) {
          const state = cache.get(key);
          if (state) {
            state.syncedAt = Math.max(state.syncedAt, nowMs);
            state.props = props;
          } else {
            cache.set(key, { syncedAt: nowMs, props, pending: undefined });
          }
        }
      },
    });
  }

  return {
    async onEventsStored(tx: Tx, ws: string, events: StoredEvent[]): Promise<void> {
      if (events.length === 0) return;
      await confirmStaged(tx);

      // Observations go straight into the cached type's pending observations (written at its next
      // sync), or into a fresh set for a type this process does not know yet.
      const nowMs = clock.now().getTime();
      const touched = new Map<string, { obs: TypeObs; state: TypeState | undefined; write: boolean }>();
      for (const e of events) {
        const name = catalogName(e.type, e.name);
        const key = ws + SEP + e.type + SEP + name;
        const cappedAt = capped.get(key);
        if (cappedAt !== undefined && nowMs - cappedAt < CAPPED_RECHECK_MS) continue;
        const props = e.properties ?? {};
        let t = touched.get(key);
        if (!t) {
          const state = cache.get(key);
          const fresh = (): TypeObs => ({ type: e.type, name, firstAt: e.receivedAt, lastAt: e.receivedAt, sample: props, paths: new Map() });
          const obs = state ? (state.pending ??= fresh()) : fresh();
          t = { obs, state, write: !state || nowMs - state.syncedAt >= REFRESH_MS };
          touched.set(key, t);
        }
        const obs = t.obs;
        if (e.receivedAt < obs.firstAt) obs.firstAt = e.receivedAt;
        if (e.receivedAt >= obs.lastAt) {
          obs.lastAt = e.receivedAt;
          obs.sample = props;
        }
        const known = t.state?.props;
        const touch = t;
        flattenProperties(props, (path, type) => {
          const p = obs.paths.get(path);
          if (!p) obs.paths.set(path, { counts: new Map([[type, 1]]), latest: type });
          else {
            p.counts.set(type, (p.counts.get(type) ?? 0) + 1);
            if (type !== 'null') p.latest = type;
          }
          if (!touch.write && known) {
            const k = known.get(path);
            // A new path (while the type has room for more) or a type never seen at this path.
            if (k ? !k.seen.has(type) : known.size < MAX_PATHS_PER_TYPE) touch.write = true;
          }
        });
      }

      const toSync: Array<[string, TypeObs]> = [];
      for (const [key, t] of touched) {
        if (!t.write) continue;
        toSync.push([key, t.obs]);
        if (t.state) {
          t.state.pending = undefined;
          // The refresh timer restarts now, not at commit, so concurrent batches do not all refresh; if
          // this transaction rolls back, last_seen is refreshed a minute later instead.
          t.state.syncedAt = nowMs;
        }
      }
      if (toSync.length > 0) await sync(tx, ws, toSync, nowMs);
    },

    /** Forgets everything cached, as a restart would (tests use it). */
    resetCache(): void {
      cache.clear();
      capped.clear();
      staged = [];
    },
  };
}
