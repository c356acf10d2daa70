// Customer.io Track API v2 (`/api/v2/entity`, `/api/v2/batch`) operations -> ops. Pure.
// A v2 operation is {type: person|object|delivery, action, identifiers, ...}; see docs/api.md.
import { AppError } from '../../errors.ts';
import type { Op, Who } from './ops.ts';
import {
  MAX_REQUEST_BYTES, attributes, device, eventName, identifierObject, invalid, isObject, join, objectData,
  objectIdentifiers, objectRelationships, optionalId, relationshipAttributes, requiredId, unixTime, v1Merge,
} from './normalize.ts';

export const PERSON_ACTIONS = [
  'identify', 'identify_anonymous', 'event', 'page', 'screen', 'delete', 'suppress', 'unsuppress',
  'add_relationships', 'delete_relationships', 'add_device', 'delete_device', 'merge',
] as const;
export const OBJECT_ACTIONS = ['identify', 'identify_anonymous', 'delete', 'add_relationships', 'delete_relationships'] as const;

type PersonAction = typeof PERSON_ACTIONS[number];
type ObjectAction = typeof OBJECT_ACTIONS[number];

function action<T extends string>(raw: unknown, allowed: readonly T[], field: string): T {
  if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
    throw invalid(field, `expected one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

function attrsOf(raw: unknown, field: string): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw invalid(field, 'expected an object');
  return raw;
}

/** One v2 operation (already parsed JSON) -> ops. `prefix` is "" for /entity, "batch[3]" in a batch. */
export function v2Operation(raw: unknown, prefix = ''): Op[] {
  const at = (k: string) => join(prefix, k);
  if (!isObject(raw)) throw invalid(prefix || 'body', 'expected an operation object {type, action, identifiers}');
  switch (raw.type) {
    case 'person':
      return personOperation(raw, action<PersonAction>(raw.action, PERSON_ACTIONS, at('action')), prefix);
    case 'object':
      return objectOperation(raw, action<ObjectAction>(raw.action, OBJECT_ACTIONS, at('action')), at);
    case 'delivery':
      throw invalid(at('type'), 'delivery operations are not supported by Tandem yet');
    default:
      throw invalid(at('type'), 'expected "person" or "object"');
  }
}

function personOperation(raw: Record<string, unknown>, act: PersonAction, prefix: string): Op[] {
  const at = (k: string) => join(prefix, k);
  if (act === 'merge') return [v1Merge(raw, prefix)];
  if (act === 'identify_anonymous') {
    // Not in Customer.io's current reference: attributes for a person known only by anonymous_id.
    const anon = requiredId(raw.anonymous_id, at('anonymous_id'));
    return [{
      op: 'identify', who: { kind: 'anonymous_id', value: anon }, updateOnly: false, anonymousId: null, newId: null,
      attributes: attributes(attrsOf(raw.attributes, at('attributes')), at('attributes')), timestamp: unixTime(raw.timestamp, at('timestamp')),
    }];
  }
  const events = act === 'event' || act === 'page' || act === 'screen';
  const who: Who = identifierObject(raw.identifiers, at('identifiers'), { anonymous: events });
  switch (act) {
    case 'identify': {
      const attrs = { ...attrsOf(raw.attributes, at('attributes')) };
      const update = attrs._update === true || attrs._update === 'true';
      delete attrs._update;
      const anonymousId = optionalId(attrs.anonymous_id ?? raw.anonymous_id, at('attributes.anonymous_id')) ?? null;
      delete attrs.anonymous_id;
      const newId = who.kind === 'id' ? null : optionalId(attrs.id, at('attributes.id')) ?? null;
      delete attrs.id;
      const ops: Op[] = [{
        op: 'identify', who, updateOnly: update, anonymousId, newId,
        attributes: attributes(attrs, at('attributes')), timestamp: unixTime(raw.timestamp, at('timestamp')),
      }];
      if (raw.cio_relationships !== undefined && raw.cio_relationships !== null) {
        ops.push({ op: 'relate', who, objects: objectRelationships(raw.cio_relationships, at('cio_relationships')), create: false });
      }
      return ops;
    }
    case 'event':
    case 'page':
    case 'screen': {
      const type = act === 'event' ? 'track' : act;
      return [{
        op: 'event', who, type, name: eventName(raw.name, type, at('name')),
        data: objectData(raw.attributes, at('attributes')), timestamp: unixTime(raw.timestamp, at('timestamp')),
        messageId: optionalId(raw.id, at('id')) ?? null,
      }];
    }
    case 'delete':
    case 'suppress':
    case 'unsuppress':
      return [{ op: act, who }];
    case 'add_relationships':
      return [{ op: 'relate', who, objects: objectRelationships(raw.cio_relationships, at('cio_relationships')), create: true }];
    case 'delete_relationships':
      return [{ op: 'unrelate', who, objects: objectRelationships(raw.cio_relationships, at('cio_relationships')), create: false }];
    case 'add_device':
      return [{ op: 'add_device', who, device: device(raw.device, at('device'), 'token') }];
    case 'delete_device': {
      const d = raw.device;
      if (!isObject(d)) throw invalid(at('device'), 'expected {token}');
      return [{ op: 'delete_device', who, deviceId: requiredId(d.token, at('device.token')) }];
    }
  }
}

/** Object -> people relationships: `[{identifiers: {id|email|cio_id}, relationship_attributes}]`. */
function peopleRelationships(raw: unknown, field: string, anonymous: boolean): Array<{ who: Who; attributes: Record<string, unknown> }> {
  if (!Array.isArray(raw)) throw invalid(field, 'expected an array of relationships');
  return raw.map((r: unknown, i) => {
    const item = join(field, i);
    if (!isObject(r)) throw invalid(item, 'expected an object');
    const ids = join(item, 'identifiers');
    const who = anonymous
      ? { kind: 'anonymous_id' as const, value: requiredId(isObject(r.identifiers) ? r.identifiers.anonymous_id : undefined, join(ids, 'anonymous_id')) }
      : identifierObject(r.identifiers, ids);
    return { who, attributes: relationshipAttributes(r.relationship_attributes, join(item, 'relationship_attributes')) };
  });
}

function objectOperation(raw: Record<string, unknown>, act: ObjectAction, at: (k: string) => string): Op[] {
  const { type, id } = objectIdentifiers(raw.identifiers, at('identifiers'));
  const relate = (anonymous: boolean, create: boolean): Op[] => {
    const rels = raw.cio_relationships;
    if (rels === undefined || rels === null) {
      if (act === 'identify' || act === 'identify_anonymous') return [];
      throw invalid(at('cio_relationships'), 'is required');
    }
    return peopleRelationships(rels, at('cio_relationships'), anonymous).map((r) => (
      act === 'delete_relationships'
        ? { op: 'unrelate', who: r.who, objects: [{ type, id, attributes: {} }], create: false }
        : { op: 'relate', who: r.who, objects: [{ type, id, attributes: r.attributes }], create }));
  };
  switch (act) {
    case 'identify':
      return [
        { op: 'object_identify', type, id, attributes: attributes(attrsOf(raw.attributes, at('attributes')), at('attributes'), false) },
        ...relate(false, true),
      ];
    case 'identify_anonymous':
      return [
        { op: 'object_identify', type, id, attributes: attributes(attrsOf(raw.attributes, at('attributes')), at('attributes'), false) },
        ...relate(true, true),
      ];
    case 'delete':
      return [{ op: 'object_delete', type, id }];
    case 'add_relationships':
      return relate(false, true);
    case 'delete_relationships':
      return relate(false, false);
  }
}

export interface BatchItemError {
  batch_index: number;
  reason: string;
  field: string;
  message: string;
}

/**
 * A v2 batch body -> per item: its ops, or the error that rejected it. Customer.io accepts the
 * valid items and reports the invalid ones (207); a body that is not {batch: [...]} is a 400.
 */
export function v2Batch(body: unknown): Array<{ index: number; ops: Op[] } | { index: number; error: AppError }> {
  if (!isObject(body) || !Array.isArray(body.batch)) throw invalid('batch', 'expected {"batch": [operations]}');
  return body.batch.map((item: unknown, index) => {
    try {
      if (Buffer.byteLength(JSON.stringify(item) ?? '') > MAX_REQUEST_BYTES) {
        throw new AppError('event.too_large', `batch[${index}] is larger than 32 KB.`, { field: `batch[${index}]` });
      }
      return { index, ops: v2Operation(item, `batch[${index}]`) };
    } catch (err) {
      if (err instanceof AppError) return { index, error: err };
      throw err;
    }
  });
}
