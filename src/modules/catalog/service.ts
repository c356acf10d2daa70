// The event catalog: recorded from live traffic by the ingest observer (recorder.ts), read by the API.
import type { Clock } from '../../clock.ts';
import type { Db, Tx } from '../../db/pool.ts';
import type { EventKind } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { StoredEvent } from '../ingest/index.ts';
import { createCatalogRecorder, DEFAULT_LIMITS, type CatalogLimits } from './recorder.ts';
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

export interface CatalogWarning {
  code: 'catalog.event_types_full' | 'catalog.properties_full';
  message: string;
  /** properties_full: the event type. */
  type?: string;
  name?: string;
}

export interface CatalogPage {
  eventTypes: EventType[];
  /** The (type, name) after which the next page starts; undefined on the last page. */
  next: { type: string; name: string } | undefined;
  warnings: CatalogWarning[];
}

/** Event types per page of GET /api/event-types, by default and at most. */
export const PAGE_DEFAULT = 100;
export const PAGE_MAX = 500;

export function createCatalogService(deps: { db: Db; clock: Clock; log: Logger; limits?: CatalogLimits }) {
  const { db, clock } = deps;
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const recorder = createCatalogRecorder({ clock, log: deps.log.child({ module: 'catalog' }), limits });

  /** The catalog (bounded by its caps), or `limit` event types of it. */
  async function list(workspaceId: string, filter: CatalogFilter = {}, limit?: number): Promise<EventType[]> {
    const repo = createCatalogRepo(db);
    const types = await repo.listTypes(workspaceId, filter, clock.now(), limit);
    if (types.length === 0) return [];
    // Properties and changes of this page's types only: a page costs the same however big the catalog.
    const keys = { ...filter, after: undefined, keys: types.map((t) => ({ type: t.type, name: t.name })) };
    const [props, changes] = await Promise.all([
      repo.listProperties(workspaceId, keys),
      repo.recentChanges(workspaceId, keys, CHANGES_PER_TYPE),
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

    /** One page of the catalog, in (type, name) order, with warnings when a cap has been reached. */
    async page(workspaceId: string, filter: Omit<CatalogFilter, 'keys'>, limit: number = PAGE_DEFAULT): Promise<CatalogPage> {
      const repo = createCatalogRepo(db);
      const [rows, room, full] = await Promise.all([
        list(workspaceId, filter, limit + 1),
        repo.typeRoom(workspaceId, []),
        repo.typesAtPropertyCap(workspaceId, limits.maxProperties, 20),
      ]);
      const eventTypes = rows.slice(0, limit);
      const last = eventTypes[eventTypes.length - 1];
      const warnings: CatalogWarning[] = [];
      if (room.total >= limits.maxEventTypes) {
        warnings.push({
          code: 'catalog.event_types_full',
          message: `The catalog holds its maximum of ${limits.maxEventTypes} event types: events of new types are stored, but not catalogued (TANDEM_CATALOG_MAX_EVENT_TYPES).`,
        });
      }
      for (const t of full) {
        warnings.push({
          code: 'catalog.properties_full', type: t.type, name: t.name,
          message: `${t.type} "${t.name}" has the maximum of ${limits.maxProperties} properties: new ones are not catalogued (TANDEM_CATALOG_MAX_PROPERTIES).`,
        });
      }
      return { eventTypes, next: rows.length > limit && last ? { type: last.type, name: last.name } : undefined, warnings };
    },

    async get(workspaceId: string, type: EventKind, name: string): Promise<EventType> {
      const [found] = await list(workspaceId, { type, name });
      if (!found) throw new AppError('event_type.not_found', undefined, { field: 'name' });
      return found;
    },
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;
