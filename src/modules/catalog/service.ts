// The event catalog: recorded from live traffic by the ingest observer (recorder.ts), read by the API.
import type { Clock } from '../../clock.ts';
import type { Db, Tx } from '../../db/pool.ts';
import type { EventKind } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { StoredEvent } from '../ingest/index.ts';
import { createCatalogRecorder } from './recorder.ts';
import { createCatalogRepo, type CatalogFilter } from './repo.ts';

/** Type changes returned per event type, newest first. */
const CHANGES_PER_TYPE = 20;

export interface CatalogProperty {
  path: string;
  type: string;
  seenTypes: string[];
  firstSeen: Date;
  lastSeen: Date;
}

export interface CatalogTypeChange {
  path: string;
  from: string;
  to: string;
  changedAt: Date;
}

export interface EventType {
  type: EventKind;
  name: string;
  firstSeen: Date;
  /** Accurate to about a minute (the recorder writes it at most once a minute per event type). */
  lastSeen: Date;
  count24h: number;
  count7d: number;
  sample: Record<string, unknown>;
  properties: CatalogProperty[];
  typeChanges: CatalogTypeChange[];
}

export function createCatalogService(deps: { db: Db; clock: Clock; log: Logger }) {
  const { db, clock } = deps;
  const recorder = createCatalogRecorder({ clock, log: deps.log.child({ module: 'catalog' }) });

  async function list(workspaceId: string, filter: CatalogFilter = {}): Promise<EventType[]> {
    const repo = createCatalogRepo(db);
    const [types, props, changes] = await Promise.all([
      repo.listTypes(workspaceId, filter, clock.now()),
      repo.listProperties(workspaceId, filter),
      repo.recentChanges(workspaceId, filter, CHANGES_PER_TYPE),
    ]);
    const byKey = new Map<string, EventType>();
    const out = types.map((t) => {
      const v: EventType = { ...t, properties: [], typeChanges: [] };
      byKey.set(`${t.type}\u0000${t.name}`, v);
      return v;
    });
    for (const p of props) {
      byKey.get(`${p.type}\u0000${p.name}`)?.properties.push({
        path: p.path, type: p.dataType, seenTypes: p.seenTypes, firstSeen: p.firstSeen, lastSeen: p.lastSeen,
      });
    }
    for (const c of changes) {
      byKey.get(`${c.type}\u0000${c.name}`)?.typeChanges.push({ path: c.path, from: c.fromType, to: c.toType, changedAt: c.changedAt });
    }
    return out;
  }

  return {
    /** IngestObserver: called inside every ingest transaction (registered with services.ingest.observe). */
    onEventsStored: (tx: Tx, workspaceId: string, events: StoredEvent[]) => recorder.onEventsStored(tx, workspaceId, events),

    /** Forgets the recorder's in-memory cache, as a restart would. */
    resetCache: () => recorder.resetCache(),

    list,

    async get(workspaceId: string, type: EventKind, name: string): Promise<EventType> {
      const [found] = await list(workspaceId, { type, name });
      if (!found) throw new AppError('event_type.not_found', undefined, { field: 'name' });
      return found;
    },
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;
