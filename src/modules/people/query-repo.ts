// Read queries behind the people REST API: lists, timelines, exports, objects. Every query is
// scoped by workspace_id. Keyset pages read the exact microsecond timestamp as text so a cursor
// never loses precision (a JS Date keeps only milliseconds).
import { sql } from 'kysely';
import { micros, type Keyset } from '../../db/keyset.ts';
import type { Queryable } from '../../db/pool.ts';
import type { EventKind, StoredEvent } from '../ingest/index.ts';

type Json = Record<string, unknown>;

export interface PersonRow {
  id: string;
  externalId: string | null;
  email: string | null;
  phone: string | null;
  attributes: Json;
  timezone: string | null;
  locale: string | null;
  identified: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** created_at with microseconds, for the next cursor. */
  cursorTs: string;
}

export interface IdentifierRow {
  kind: 'user' | 'anonymous';
  value: string;
  createdAt: Date;
}

/** A stored event as the timeline reads it (the shape ingest stores), with its cursor. */
export interface EventRow extends Omit<StoredEvent, 'workspaceId' | 'personId' | 'source'> {
  source: string;
  cursorTs: string;
}

export interface DeviceRow {
  deviceId: string;
  platform: string | null;
  attributes: Json;
  lastUsed: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ObjectRow {
  type: string;
  id: string;
  attributes: Json;
  createdAt: Date;
  updatedAt: Date;
}

export interface RelatedObjectRow extends ObjectRow {
  relationshipAttributes: Json;
  relatedAt: Date;
}

export interface SuppressionRow {
  kind: 'user' | 'anonymous' | 'email';
  value: string;
  reason: string;
  createdAt: Date;
}

export type { Keyset };

export interface ListPeopleFilter {
  limit: number;
  after?: Keyset | undefined;
  q?: string | undefined;
  email?: string | undefined;
  userId?: string | undefined;
  identified?: boolean | undefined;
}

export interface TimelineFilter {
  limit: number;
  after?: Keyset | undefined;
  type?: EventKind | undefined;
  name?: string | undefined;
  /** One event by its id. */
  id?: string | undefined;
}

function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

const personColumns = [
  'p.id', 'p.external_id', 'p.email', 'p.phone', 'p.attributes', 'p.timezone', 'p.locale',
  'p.identified', 'p.created_at', 'p.updated_at',
] as const;

function toPerson(r: {
  id: string; external_id: string | null; email: string | null; phone: string | null; attributes: Json;
  timezone: string | null; locale: string | null; identified: boolean; created_at: Date; updated_at: Date; cursor_ts: string;
}): PersonRow {
  return {
    id: r.id, externalId: r.external_id, email: r.email, phone: r.phone, attributes: r.attributes,
    timezone: r.timezone, locale: r.locale, identified: r.identified, createdAt: r.created_at,
    updatedAt: r.updated_at, cursorTs: r.cursor_ts,
  };
}

export function createPeopleQueryRepo(db: Queryable) {
  const people = (ws: string) => db.selectFrom('people as p')
    .select(personColumns).select(micros('p.created_at').as('cursor_ts'))
    .where('p.workspace_id', '=', ws);

  return {
    async listPeople(ws: string, f: ListPeopleFilter): Promise<PersonRow[]> {
      let query = people(ws);
      if (f.after) query = query.where(sql<boolean>`(p.created_at, p.id) < (${f.after.ts}::timestamptz, ${f.after.id}::uuid)`);
      if (f.identified !== undefined) query = query.where('p.identified', '=', f.identified);
      if (f.email !== undefined) query = query.where(sql<boolean>`lower(p.email) = lower(${f.email})`);
      if (f.userId !== undefined) {
        const userId = f.userId;
        query = query.where((eb) => eb.or([
          eb('p.external_id', '=', userId),
          eb.exists(eb.selectFrom('person_identifiers as i').select(sql`1`.as('one'))
            .where('i.workspace_id', '=', ws).where('i.kind', '=', 'user').where('i.value', '=', userId)
            .whereRef('i.person_id', '=', 'p.id')),
        ]));
      }
      if (f.q !== undefined && f.q !== '') {
        const q = f.q;
        const like = likePattern(q);
        query = query.where((eb) => eb.or([
          sql<boolean>`p.email ilike ${like}`,
          sql<boolean>`p.external_id ilike ${like}`,
          sql<boolean>`p.phone ilike ${like}`,
          sql<boolean>`p.attributes::text ilike ${like}`,
          // Anonymous ids and merged-in user ids: exact match only (primary-key lookups).
          eb.exists(eb.selectFrom('person_identifiers as i').select(sql`1`.as('one'))
            .where('i.workspace_id', '=', ws).where('i.kind', 'in', ['user', 'anonymous']).where('i.value', '=', q)
            .whereRef('i.person_id', '=', 'p.id')),
        ]));
      }
      const rows = await query.orderBy('p.created_at', 'desc').orderBy('p.id', 'desc').limit(f.limit).execute();
      return rows.map(toPerson);
    },

    async findById(ws: string, id: string): Promise<PersonRow | undefined> {
      const row = await people(ws).where('p.id', '=', id).executeTakeFirst();
      return row && toPerson(row);
    },

    /** By a user id the person is known by (merged ids included), else by external_id. */
    async findByUserId(ws: string, userId: string): Promise<PersonRow | undefined> {
      const viaIdentifier = await people(ws)
        .innerJoin('person_identifiers as i', (j) => j.onRef('i.person_id', '=', 'p.id').onRef('i.workspace_id', '=', 'p.workspace_id'))
        .where('i.kind', '=', 'user').where('i.value', '=', userId)
        .executeTakeFirst();
      if (viaIdentifier) return toPerson(viaIdentifier);
      const row = await people(ws).where('p.external_id', '=', userId)
        .orderBy('p.updated_at', 'desc').orderBy('p.id').executeTakeFirst();
      return row && toPerson(row);
    },

    /** Emails are not unique: the oldest profile answers for an email, as in identity resolution. */
    async findByEmail(ws: string, email: string): Promise<PersonRow | undefined> {
      const row = await people(ws).where(sql<boolean>`lower(p.email) = lower(${email})`)
        .orderBy('p.created_at').orderBy('p.id').executeTakeFirst();
      return row && toPerson(row);
    },

    async findByAnonymousId(ws: string, anonymousId: string): Promise<PersonRow | undefined> {
      const row = await people(ws)
        .innerJoin('person_identifiers as i', (j) => j.onRef('i.person_id', '=', 'p.id').onRef('i.workspace_id', '=', 'p.workspace_id'))
        .where('i.kind', '=', 'anonymous').where('i.value', '=', anonymousId)
        .executeTakeFirst();
      return row && toPerson(row);
    },

    async identifiers(ws: string, personId: string): Promise<IdentifierRow[]> {
      const rows = await db.selectFrom('person_identifiers').select(['kind', 'value', 'created_at'])
        .where('workspace_id', '=', ws).where('person_id', '=', personId)
        .orderBy('created_at').orderBy('kind').orderBy('value').execute();
      return rows.map((r) => ({ kind: r.kind, value: r.value, createdAt: r.created_at }));
    },

    /** Newest first on (timestamp, id): the events_person index. */
    async timeline(ws: string, personId: string, f: TimelineFilter): Promise<EventRow[]> {
      let query = db.selectFrom('events as e')
        .select(['e.id', 'e.type', 'e.name', 'e.properties', 'e.context', 'e.user_id', 'e.anonymous_id',
          'e.message_id', 'e.source', 'e.timestamp', 'e.received_at'])
        .select(micros('e.timestamp').as('cursor_ts'))
        .where('e.workspace_id', '=', ws).where('e.person_id', '=', personId);
      if (f.after) query = query.where(sql<boolean>`(e.timestamp, e.id) < (${f.after.ts}::timestamptz, ${f.after.id}::bigint)`);
      if (f.type !== undefined) query = query.where('e.type', '=', f.type);
      if (f.name !== undefined) query = query.where('e.name', '=', f.name);
      if (f.id !== undefined) query = query.where('e.id', '=', f.id);
      const rows = await query.orderBy('e.timestamp', 'desc').orderBy('e.id', 'desc').limit(f.limit).execute();
      return rows.map((r) => ({
        id: String(r.id), type: r.type, name: r.name, properties: r.properties, context: r.context,
        userId: r.user_id, anonymousId: r.anonymous_id, messageId: r.message_id, source: r.source,
        timestamp: r.timestamp, receivedAt: r.received_at, cursorTs: r.cursor_ts,
      }));
    },

    async devices(ws: string, personId: string): Promise<DeviceRow[]> {
      const rows = await db.selectFrom('devices').selectAll()
        .where('workspace_id', '=', ws).where('person_id', '=', personId)
        .orderBy('created_at').orderBy('device_id').execute();
      return rows.map((r) => ({
        deviceId: r.device_id, platform: r.platform, attributes: r.attributes, lastUsed: r.last_used,
        createdAt: r.created_at, updatedAt: r.updated_at,
      }));
    },

    async relatedObjects(ws: string, personId: string): Promise<RelatedObjectRow[]> {
      const rows = await db.selectFrom('object_relationships as r')
        .innerJoin('objects as o', (j) => j.onRef('o.workspace_id', '=', 'r.workspace_id')
          .onRef('o.object_type', '=', 'r.object_type').onRef('o.object_id', '=', 'r.object_id'))
        .select(['o.object_type', 'o.object_id', 'o.attributes', 'o.created_at', 'o.updated_at',
          'r.attributes as rel_attributes', 'r.created_at as rel_created_at'])
        .where('r.workspace_id', '=', ws).where('r.person_id', '=', personId)
        .orderBy('r.object_type').orderBy('r.object_id').execute();
      return rows.map((r) => ({
        type: r.object_type, id: r.object_id, attributes: r.attributes, createdAt: r.created_at,
        updatedAt: r.updated_at, relationshipAttributes: r.rel_attributes, relatedAt: r.rel_created_at,
      }));
    },

    async findObject(ws: string, type: string, id: string): Promise<(ObjectRow & { relationshipCount: number }) | undefined> {
      const row = await db.selectFrom('objects as o')
        .select(['o.object_type', 'o.object_id', 'o.attributes', 'o.created_at', 'o.updated_at'])
        .select((eb) => eb.selectFrom('object_relationships as r').select(sql<number>`count(*)::int`.as('n'))
          .where('r.workspace_id', '=', ws).where('r.object_type', '=', type).where('r.object_id', '=', id)
          .as('relationship_count'))
        .where('o.workspace_id', '=', ws).where('o.object_type', '=', type).where('o.object_id', '=', id)
        .executeTakeFirst();
      return row && {
        type: row.object_type, id: row.object_id, attributes: row.attributes, createdAt: row.created_at,
        updatedAt: row.updated_at, relationshipCount: row.relationship_count ?? 0,
      };
    },

    /** Suppressions on any identifier the person holds (user ids, anonymous ids, email). */
    async suppressionsFor(ws: string, ids: { user: string[]; anonymous: string[]; email: string | null }): Promise<SuppressionRow[]> {
      const rows = await db.selectFrom('person_suppressions').select(['kind', 'value', 'reason', 'created_at'])
        .where('workspace_id', '=', ws)
        .where((eb) => {
          const ors = [];
          if (ids.user.length) ors.push(eb.and([eb('kind', '=', 'user'), eb('value', 'in', ids.user)]));
          if (ids.anonymous.length) ors.push(eb.and([eb('kind', '=', 'anonymous'), eb('value', 'in', ids.anonymous)]));
          if (ids.email) ors.push(eb.and([eb('kind', '=', 'email'), sql<boolean>`lower(value) = lower(${ids.email})`]));
          return eb.or(ors);
        })
        .orderBy('created_at').orderBy('kind').orderBy('value').execute();
      return rows.map((r) => ({ kind: r.kind, value: r.value, reason: r.reason, createdAt: r.created_at }));
    },
  };
}

export type PeopleQueryRepo = ReturnType<typeof createPeopleQueryRepo>;
