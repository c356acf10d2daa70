// JSON views of people, events and objects (ISO dates), and the opaque keyset cursors.
// Shared by the query service, the routes' response schemas and the export.
import { AppError } from '../../errors.ts';
import type { EventRow, IdentifierRow, Keyset, PersonRow, RelatedObjectRow } from './query-repo.ts';

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
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

export function isUuid(s: string): boolean {
  return UUID.test(s);
}

export function encodeCursor(k: Keyset): string {
  return Buffer.from(JSON.stringify([k.ts, k.id]), 'utf8').toString('base64url');
}

/** An opaque cursor back to a keyset; anything malformed is the caller's 400, never a 500. */
export function decodeCursor(cursor: string, idKind: 'uuid' | 'bigint'): Keyset {
  const bad = () => new AppError('request.invalid', 'The cursor is not valid; use nextCursor from a previous page.', { field: 'cursor' });
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw bad();
  const [ts, id] = parsed as unknown[];
  if (typeof ts !== 'string' || typeof id !== 'string' || !TS.test(ts)) throw bad();
  // Round-trip through Date to reject impossible dates (month 13, Feb 30) before PostgreSQL sees them.
  const date = new Date(ts);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 19) !== ts.slice(0, 19)) throw bad();
  if (idKind === 'uuid' ? !isUuid(id) : !/^\d{1,19}$/.test(id) || BigInt(id) > 9223372036854775807n) throw bad();
  return { ts, id };
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
