// JSON views of people, events and objects (ISO dates); cursors are src/db/keyset.ts.
// Shared by the query service, the routes' response schemas and the export.
import type { EventRow, IdentifierRow, PersonRow, RelatedObjectRow } from './query-repo.ts';

type Json = Record<string, unknown>;

export const LOOKUP_BY = ['id', 'userId', 'email', 'anonymousId'] as const;
export type LookupBy = typeof LOOKUP_BY[number];

export interface PersonView {
  id: string;
  userId: string | null;
  email: string | null;
  phone: string | null;
  identified: boolean;
  attributes: Json;
  timezone: string | null;
  locale: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface PersonDetailView extends PersonView {
  identifiers: { userIds: string[]; anonymousIds: string[] };
}

/** A stored event as the API answers it: the stored shape with ISO-8601 times. */
export type EventView = Omit<EventRow, 'cursorTs' | 'timestamp' | 'receivedAt'> & { timestamp: string; receivedAt: string };

export interface RelatedObjectView {
  type: string;
  id: string;
  attributes: Json;
  relationshipAttributes: Json;
  createdAt: string;
  updatedAt: string;
  relatedAt: string;
}

export interface ObjectView {
  type: string;
  id: string;
  attributes: Json;
  relationshipCount: number;
  createdAt: string;
  updatedAt: string;
}

export const MAX_LIMIT = 500;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: string): boolean {
  return UUID.test(s);
}

export function isBigintId(s: string): boolean {
  return /^\d{1,19}$/.test(s) && BigInt(s) <= 9223372036854775807n;
}

export function personView(p: PersonRow): PersonView {
  return {
    id: p.id, userId: p.externalId, email: p.email, phone: p.phone, identified: p.identified,
    attributes: p.attributes, timezone: p.timezone, locale: p.locale,
    createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString(),
  };
}

export function identifierLists(ids: IdentifierRow[]): { userIds: string[]; anonymousIds: string[] } {
  return {
    userIds: ids.filter((i) => i.kind === 'user').map((i) => i.value),
    anonymousIds: ids.filter((i) => i.kind === 'anonymous').map((i) => i.value),
  };
}

export function eventView(e: EventRow): EventView {
  return {
    id: e.id, type: e.type, name: e.name, properties: e.properties, context: e.context, userId: e.userId,
    anonymousId: e.anonymousId, messageId: e.messageId, source: e.source,
    timestamp: e.timestamp.toISOString(), receivedAt: e.receivedAt.toISOString(),
  };
}

export function relatedObjectView(o: RelatedObjectRow): RelatedObjectView {
  return {
    type: o.type, id: o.id, attributes: o.attributes, relationshipAttributes: o.relationshipAttributes,
    createdAt: o.createdAt.toISOString(), updatedAt: o.updatedAt.toISOString(), relatedAt: o.relatedAt.toISOString(),
  };
}
