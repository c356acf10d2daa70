// Customer.io Track API v1 payloads -> operations (ops.ts). Pure: no HTTP, no database.
// Every rejection is an AppError naming the failing field ("batch[3].attributes.plan").
import { AppError } from '../../errors.ts';
import { cleanJson as cleanJsonAt, cleanString, type Json } from '../ingest/index.ts';

export { cleanString };
import type { ObjectRel, Op, Who } from './ops.ts';

/** Customer.io: 32 KB per v1 request and per v2 entity, 500 KB per v2 batch. */
export const MAX_REQUEST_BYTES = 32 * 1024;
export const MAX_BATCH_BYTES = 500 * 1024;
/** Customer.io's documented identify limits ("cannot identify more than 300 attributes in one request"). */
export const MAX_ATTRIBUTES = 300;
export const MAX_ATTRIBUTE_NAME_BYTES = 150;
export const MAX_ATTRIBUTE_VALUE_BYTES = 1000;
/** "event name cannot be longer than 100 bytes"; page and screen names are paths/URLs: "less than 500 characters". */
export const MAX_EVENT_NAME_BYTES = 100;
export const MAX_PAGE_NAME_CHARS = 500;
/** Ids land in btree indexes, whose entries must stay well under PostgreSQL's ~2.7 KB. */
export const MAX_ID_CHARS = 500;
/** PostgreSQL timestamptz comfortably holds years 1970-9999; larger "seconds" are milliseconds sent by mistake. */
const MAX_UNIX_SECONDS = 253402300799;

export function invalid(field: string, why: string): AppError {
  return new AppError('request.invalid', `${field}: ${why}`, { field });
}

export function join(prefix: string, key: string | number): string {
  if (typeof key === 'number') return `${prefix}[${key}]`;
  return prefix ? `${prefix}.${key}` : key;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A storable deep copy of parsed JSON (shared cleaning rules, see ingest/clean.ts). */
export function cleanJson(value: unknown, field: string): unknown {
  return cleanJsonAt(value, field ? [field] : []);
}

/** An id Customer.io accepts as a string or a number; undefined when absent or empty. */
export function optionalId(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') throw invalid(field, 'expected a string');
  if (v.length > MAX_ID_CHARS) throw invalid(field, `longer than ${MAX_ID_CHARS} characters`);
  return cleanString(v);
}

export function requiredId(v: unknown, field: string): string {
  const id = optionalId(v, field);
  if (id === undefined || id.trim() === '') throw invalid(field, 'is required');
  return id;
}

/** Unix seconds (number or numeric string) -> Date; null when absent. */
export function unixTime(v: unknown, field: string): Date | null {
  if (v === undefined || v === null || v === '') return null;
  const n = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw invalid(field, 'expected a unix timestamp in seconds');
  if (n > MAX_UNIX_SECONDS) throw invalid(field, 'expected a unix timestamp in seconds (this looks like milliseconds)');
  return new Date(Math.floor(n * 1000));
}

/**
 * A path identifier, as Customer.io reads it: "cio_<id>" is Tandem's person id, a value with "@"
 * is an email, anything else is the person's id.
 */
export function pathIdentifier(raw: string, field = 'identifier'): Who {
  if (raw.trim() === '') throw invalid(field, 'must not be empty');
  if (raw.length > MAX_ID_CHARS) throw invalid(field, `longer than ${MAX_ID_CHARS} characters`);
  const value = cleanString(raw);
  if (value.startsWith('cio_')) return { kind: 'cio_id', value: value.slice(4) };
  if (value.includes('@')) return { kind: 'email', value };
  return { kind: 'id', value };
}

/** `{id}` | `{email}` | `{cio_id}`: exactly one identifier (merge_customers, v2 identifiers). */
export function identifierObject(raw: unknown, field: string, opts: { anonymous?: boolean } = {}): Who {
  if (!isObject(raw)) throw invalid(field, 'expected an object with one of id, email, cio_id');
  const keys = Object.keys(raw).filter((k) => raw[k] !== undefined && raw[k] !== null);
  if (keys.length !== 1) throw invalid(field, 'give exactly one of id, email, cio_id');
  const key = keys[0]!;
  const value = requiredId(raw[key], join(field, key));
  switch (key) {
    case 'id':
      return { kind: 'id', value };
    case 'email':
      return { kind: 'email', value };
    case 'cio_id':
      return { kind: 'cio_id', value: value.startsWith('cio_') ? value.slice(4) : value };
    case 'anonymous_id':
      if (opts.anonymous) return { kind: 'anonymous_id', value };
      break;
    case 'phone':
      throw invalid(join(field, key), 'phone identifiers are not supported; use id, email or cio_id');
    default:
      break;
  }
  throw invalid(join(field, key), 'unknown identifier; use id, email or cio_id');
}

function byteLength(v: unknown): number {
  return Buffer.byteLength(typeof v === 'string' ? v : JSON.stringify(v) ?? '');
}

/**
 * Person or object attributes with Customer.io's limits. An empty string removes an attribute,
 * like null does.
 */
export function attributes(raw: Record<string, unknown>, field: string, limits = true): Json {
  const entries = Object.entries(raw);
  if (limits && entries.length > MAX_ATTRIBUTES) {
    throw invalid(field || 'body', `cannot identify more than ${MAX_ATTRIBUTES} attributes in one request`);
  }
  const out: Json = {};
  for (const [name, value] of entries) {
    const at = join(field, name);
    if (name === '') throw invalid(field || 'body', 'attribute names must not be empty');
    if (limits && Buffer.byteLength(name) > MAX_ATTRIBUTE_NAME_BYTES) {
      throw invalid(at, `attribute name cannot be longer than ${MAX_ATTRIBUTE_NAME_BYTES} bytes`);
    }
    if (value === '' || value === null || value === undefined) {
      out[cleanString(name)] = null;
      continue;
    }
    if (limits && byteLength(value) > MAX_ATTRIBUTE_VALUE_BYTES) {
      throw invalid(at, `value for attribute '${name}' cannot be longer than ${MAX_ATTRIBUTE_VALUE_BYTES} bytes`);
    }
    out[cleanString(name)] = cleanJson(value, at);
  }
  return out;
}

export function objectData(raw: unknown, field: string): Json {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw invalid(field, 'must be an object (send "data": {} rather than "data": "")');
  return cleanJson(raw, field) as Json;
}

export function eventName(raw: unknown, kind: 'track' | 'page' | 'screen', field: string): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw invalid(field, 'event name must not be blank');
  const name = cleanString(raw.trim());
  if (kind === 'track' && Buffer.byteLength(name) > MAX_EVENT_NAME_BYTES) {
    throw invalid(field, `event name cannot be longer than ${MAX_EVENT_NAME_BYTES} bytes`);
  }
  if (kind !== 'track' && name.length > MAX_PAGE_NAME_CHARS) {
    throw invalid(field, `${kind} name must be less than ${MAX_PAGE_NAME_CHARS} characters`);
  }
  return name;
}

/** v1 `type`: page and screen are views; anything else is an ordinary event (as Customer.io does). */
export function eventKind(raw: unknown, field: string): 'track' | 'page' | 'screen' {
  if (raw === undefined || raw === null) return 'track';
  if (typeof raw !== 'string') throw invalid(field, 'expected "event", "page" or "screen"');
  return raw === 'page' || raw === 'screen' ? raw : 'track';
}

/** Person -> object relationships: `[{identifiers: {object_type_id, object_id}, relationship_attributes}]`. */
export function objectRelationships(raw: unknown, field: string): ObjectRel[] {
  if (!Array.isArray(raw)) throw invalid(field, 'expected an array of relationships');
  return raw.map((r: unknown, i) => {
    const at = join(field, i);
    if (!isObject(r)) throw invalid(at, 'expected an object');
    const { type, id } = objectIdentifiers(r.identifiers, join(at, 'identifiers'));
    return { type, id, attributes: relationshipAttributes(r.relationship_attributes, join(at, 'relationship_attributes')) };
  });
}

export function objectIdentifiers(raw: unknown, field: string): { type: string; id: string } {
  if (!isObject(raw)) throw invalid(field, 'expected {object_type_id, object_id}');
  if (raw.cio_object_id !== undefined && raw.object_id === undefined) {
    throw invalid(join(field, 'cio_object_id'), 'cio_object_id is not supported; use object_type_id and object_id');
  }
  return { type: requiredId(raw.object_type_id, join(field, 'object_type_id')), id: requiredId(raw.object_id, join(field, 'object_id')) };
}

/** Relationship attributes: null or "" would remove one in Customer.io; here they are left out. */
export function relationshipAttributes(raw: unknown, field: string): Json {
  const data = objectData(raw, field);
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null && v !== ''));
}

/** Keys of a v1 identify body that steer the call rather than being attributes. */
const V1_RESERVED = new Set(['_update', '_timestamp', 'anonymous_id', 'cio_relationships', 'id', 'cio_id']);

/** `PUT /api/v1/customers/:identifier` body -> identify (+ relationships). */
export function v1Identify(who: Who, body: unknown): Op[] {
  if (body === undefined || body === null) body = {};
  if (!isObject(body)) throw invalid('body', 'expected a JSON object of attributes');
  const attrs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!V1_RESERVED.has(k)) attrs[k] = v;
  const ops: Op[] = [{
    op: 'identify',
    who,
    attributes: attributes(attrs, ''),
    updateOnly: body._update === true || body._update === 'true',
    timestamp: unixTime(body._timestamp, '_timestamp'),
    anonymousId: optionalId(body.anonymous_id, 'anonymous_id') ?? null,
    // An email path may set the person's id; an id path cannot change it (Customer.io needs cio_id for that).
    newId: who.kind === 'id' ? null : optionalId(body.id, 'id') ?? null,
  }];
  const rel = body.cio_relationships;
  if (rel !== undefined && rel !== null) {
    if (!isObject(rel)) throw invalid('cio_relationships', 'expected {action, relationships}');
    const action = rel.action ?? 'add_relationships';
    if (action !== 'add_relationships' && action !== 'delete_relationships') {
      throw invalid('cio_relationships.action', 'expected add_relationships or delete_relationships');
    }
    const objects = objectRelationships(rel.relationships, 'cio_relationships.relationships');
    ops.push({ op: action === 'add_relationships' ? 'relate' : 'unrelate', who, objects, create: false });
  }
  return ops;
}

/**
 * `POST /api/v1/customers/:identifier/events` and `POST /api/v1/events` bodies. `who` null: an
 * anonymous event, named by `anonymous_id` when given.
 */
export function v1Event(who: Who | null, body: unknown): Op {
  if (!isObject(body)) throw invalid('body', 'expected a JSON object with a name');
  const kind = eventKind(body.type, 'type');
  let target = who;
  if (!target) {
    const anon = optionalId(body.anonymous_id, 'anonymous_id');
    target = anon ? { kind: 'anonymous_id', value: anon } : null;
  }
  const data = objectData(body.data, 'data');
  return {
    op: 'event',
    who: target,
    type: kind,
    name: eventName(body.name, kind, 'name'),
    data,
    timestamp: unixTime(body.timestamp, 'timestamp'),
    messageId: optionalId(body.id, 'id') ?? null,
  };
}

/** `POST /api/v1/merge_customers` body. */
export function v1Merge(body: unknown, prefix = ''): Op {
  if (!isObject(body)) throw invalid(prefix || 'body', 'expected {primary, secondary}');
  const primary = identifierObject(body.primary, join(prefix, 'primary'));
  const secondary = identifierObject(body.secondary, join(prefix, 'secondary'));
  if (primary.kind === secondary.kind && primary.value === secondary.value) {
    throw new AppError('person.merge_same', undefined, { field: join(prefix, 'secondary') });
  }
  return { op: 'merge', primary, secondary };
}

/** `PUT /api/v1/customers/:identifier/devices` body. */
export function v1Device(who: Who, body: unknown): Op {
  if (!isObject(body)) throw invalid('body', 'expected {device: {id, platform}}');
  return { op: 'add_device', who, device: device(body.device, 'device', 'id') };
}

export function device(raw: unknown, field: string, idKey: 'id' | 'token'): Extract<Op, { op: 'add_device' }>['device'] {
  if (!isObject(raw)) throw invalid(field, `expected {${idKey}, platform}`);
  const id = requiredId(raw[idKey], join(field, idKey));
  const platform = raw.platform;
  if (platform !== 'ios' && platform !== 'android') throw invalid(join(field, 'platform'), 'expected "ios" or "android"');
  const attrs = raw.attributes === undefined || raw.attributes === null ? {} : raw.attributes;
  if (!isObject(attrs)) throw invalid(join(field, 'attributes'), 'expected an object');
  return { id, platform, lastUsed: unixTime(raw.last_used, join(field, 'last_used')), attributes: attributes(attrs, join(field, 'attributes')) };
}
