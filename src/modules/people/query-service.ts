// Reading people: lists with keyset cursors, one profile, the event timeline, objects, and the
// full export (export.ts).
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/pool.ts';
import type { EventKind } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import { decodeCursor, pageOf } from '../../db/keyset.ts';
import { createPeopleQueryRepo, type PersonRow } from './query-repo.ts';
import { exportChunks } from './export.ts';
import {
  MAX_LIMIT, eventView, identifierLists, isBigintId, isUuid, personView, relatedObjectView,
  type EventView, type LookupBy, type ObjectView, type PersonDetailView, type PersonView, type RelatedObjectView,
} from './views.ts';

export interface ListPeopleInput {
  limit: number;
  cursor?: string | undefined;
  q?: string | undefined;
  email?: string | undefined;
  userId?: string | undefined;
  identified?: boolean | undefined;
}

export interface TimelineInput {
  limit: number;
  cursor?: string | undefined;
  type?: EventKind | undefined;
  name?: string | undefined;
}

export function createPeopleQueryService(deps: { db: Db; clock: Clock }) {
  const repo = createPeopleQueryRepo(deps.db);

  async function resolve(ws: string, key: string, by: LookupBy): Promise<PersonRow> {
    let found: PersonRow | undefined;
    switch (by) {
      case 'id':
        found = isUuid(key) ? await repo.findById(ws, key) : undefined;
        break;
      case 'userId':
        found = await repo.findByUserId(ws, key);
        break;
      case 'email':
        found = await repo.findByEmail(ws, key);
        break;
      case 'anonymousId':
        found = await repo.findByAnonymousId(ws, key);
        break;
    }
    if (!found) throw new AppError('person.not_found', undefined, { field: 'id' });
    return found;
  }

  return {
    /** The person's uuid for a path key looked up by id, userId or email; 404 when absent. */
    async resolveId(ws: string, key: string, by: LookupBy): Promise<string> {
      return (await resolve(ws, key, by)).id;
    },

    async list(ws: string, input: ListPeopleInput): Promise<{ people: PersonView[]; nextCursor: string | null }> {
      const limit = Math.min(Math.max(1, input.limit), MAX_LIMIT);
      const after = input.cursor !== undefined ? decodeCursor(input.cursor, isUuid) : undefined;
      const { page, nextCursor } = pageOf(await repo.listPeople(ws, { ...input, limit: limit + 1, after }), limit, (p) => ({ ts: p.cursorTs, id: p.id }));
      return { people: page.map(personView), nextCursor };
    },

    async get(ws: string, key: string, by: LookupBy): Promise<PersonDetailView> {
      const person = await resolve(ws, key, by);
      return { ...personView(person), identifiers: identifierLists(await repo.identifiers(ws, person.id)) };
    },

    async timeline(ws: string, key: string, by: LookupBy, input: TimelineInput): Promise<{ events: EventView[]; nextCursor: string | null }> {
      const limit = Math.min(Math.max(1, input.limit), MAX_LIMIT);
      const after = input.cursor !== undefined ? decodeCursor(input.cursor, isBigintId) : undefined;
      const person = await resolve(ws, key, by);
      const rows = await repo.timeline(ws, person.id, { limit: limit + 1, after, type: input.type, name: input.name });
      const { page, nextCursor } = pageOf(rows, limit, (e) => ({ ts: e.cursorTs, id: e.id }));
      return { events: page.map(eventView), nextCursor };
    },

    /** One of the person's events by id (the timeline's `id`), or their latest track event when no id is given. */
    async eventOf(ws: string, personId: string, eventId?: string): Promise<EventView | undefined> {
      if (eventId !== undefined && !/^[0-9]{1,19}$/.test(eventId)) return undefined;
      const rows = await repo.timeline(ws, personId, eventId !== undefined ? { limit: 1, id: eventId } : { limit: 1, type: 'track' });
      return rows[0] && eventView(rows[0]);
    },

    async objectsOf(ws: string, key: string, by: LookupBy): Promise<RelatedObjectView[]> {
      const person = await resolve(ws, key, by);
      return (await repo.relatedObjects(ws, person.id)).map(relatedObjectView);
    },

    async object(ws: string, type: string, id: string): Promise<ObjectView> {
      const o = await repo.findObject(ws, type, id);
      if (!o) throw new AppError('object.not_found', undefined, { field: 'id' });
      return {
        type: o.type, id: o.id, attributes: o.attributes, relationshipCount: o.relationshipCount,
        createdAt: o.createdAt.toISOString(), updatedAt: o.updatedAt.toISOString(),
      };
    },

    /**
     * Everything stored about a person, as JSON text chunks. The person is resolved before the
     * first chunk so a 404 is still an ordinary error; events are read in keyset pages.
     */
    async export(ws: string, key: string, by: LookupBy): Promise<AsyncIterable<string>> {
      const person = await resolve(ws, key, by);
      return exportChunks(repo, ws, person, deps.clock.now());
    },
  };
}

export type PeopleQueryService = ReturnType<typeof createPeopleQueryService>;
