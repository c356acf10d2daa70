// The one shape every source (Segment, Customer.io, Tandem's API) is normalised into before ingest.
import type { Tx } from '../../db/pool.ts';
import type { EventKind } from '../../db/schema.ts';

export type { EventKind };
export type Json = Record<string, unknown>;
export type IngestSource = 'segment' | 'customerio' | 'api';

export interface IncomingEvent {
  type: EventKind;
  /** Event name (track), page or screen name; null for identify/group/alias. */
  name?: string | null;
  userId?: string | null;
  anonymousId?: string | null;
  /** Customer.io people may be identified by email alone. Used only when userId is absent. */
  email?: string | null;
  /** alias: the id being merged into userId (Segment previousId). */
  previousId?: string | null;
  /** group: the account/object id and its type ('group' for Segment). */
  groupId?: string | null;
  objectType?: string | null;
  /** identify: attributes merged into the person (null removes one). group: the object's attributes. */
  traits?: Json;
  properties?: Json;
  context?: Json;
  /** Segment messageId / Customer.io event id: stored once within the dedupe window. */
  messageId?: string | null;
  /** Already corrected for client clock skew by the adapter. */
  timestamp: Date;
  /** identify only: update the person if they exist, never create (Customer.io `_update`). */
  updateOnly?: boolean;
}

export interface StoredEvent {
  id: string;
  workspaceId: string;
  personId: string | null;
  type: EventKind;
  name: string | null;
  properties: Json;
  context: Json;
  userId: string | null;
  anonymousId: string | null;
  messageId: string | null;
  source: IngestSource;
  timestamp: Date;
  receivedAt: Date;
}

export interface IngestResult {
  /** Per input event, in order: what happened to it. */
  outcomes: Array<'stored' | 'duplicate' | 'suppressed' | 'skipped'>;
  stored: StoredEvent[];
}

/** People the call created, and existing people whose stored profile (attributes, ids, email) it changed. */
export interface PeopleTouched {
  created: string[];
  changed: string[];
}

/** Called inside the ingest transaction with the events just stored (the event catalog is one). */
export interface IngestObserver {
  onEventsStored(tx: Tx, workspaceId: string, events: StoredEvent[], people?: PeopleTouched): Promise<void>;
}
