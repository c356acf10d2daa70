// The operations a Customer.io call turns into. normalize.ts / v2.ts build them from request bodies,
// service.ts carries them out (ingest for identify and events, the people service for the rest).
import type { Json } from '../ingest/index.ts';

/** How a call names a person. cio_id is Tandem's person id (a uuid) without the "cio_" prefix. */
export interface Who {
  kind: 'id' | 'email' | 'cio_id' | 'anonymous_id';
  value: string;
}

export interface ObjectRel {
  type: string;
  id: string;
  attributes: Json;
}

export interface DeviceInput {
  id: string;
  platform: string;
  lastUsed: Date | null;
  attributes: Json;
}

export type Op =
  | {
    op: 'identify';
    who: Who;
    attributes: Json;
    /** Customer.io `_update: true`: never create a person. */
    updateOnly: boolean;
    timestamp: Date | null;
    /** `anonymous_id` attribute: that anonymous person's activity joins this person. */
    anonymousId: string | null;
    /** An `id` given in the body of a call that names the person by email or cio_id. */
    newId: string | null;
  }
  | {
    op: 'event';
    /** null: an anonymous event without anonymous_id (Customer.io invite emails). */
    who: Who | null;
    type: 'track' | 'page' | 'screen';
    name: string;
    data: Json;
    timestamp: Date | null;
    messageId: string | null;
  }
  | { op: 'delete' | 'suppress' | 'unsuppress'; who: Who }
  | { op: 'merge'; primary: Who; secondary: Who }
  | { op: 'add_device'; who: Who; device: DeviceInput }
  | { op: 'delete_device'; who: Who; deviceId: string }
  /** create: whether a missing person is created first (Customer.io creates people on most calls). */
  | { op: 'relate'; who: Who; objects: ObjectRel[]; create: boolean }
  | { op: 'unrelate'; who: Who; objects: ObjectRel[]; create: false }
  | { op: 'object_identify'; type: string; id: string; attributes: Json }
  | { op: 'object_delete'; type: string; id: string };

export type IngestOp = Extract<Op, { op: 'identify' | 'event' }>;

export function isIngestOp(op: Op): op is IngestOp {
  return op.op === 'identify' || op.op === 'event';
}
