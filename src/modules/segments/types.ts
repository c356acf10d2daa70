// Segment shapes shared by the service, routes and other modules.
import type { Condition } from './definition.ts';

/** What a definition reads (referenced segments included): which changes to a person can move it. */
export interface SegmentDeps {
  /** Track event names. */
  events: string[];
  attributes: boolean;
  consent: boolean;
  messages: boolean;
  groups: boolean;
  /** Manual lists it reads. */
  lists: boolean;
  /** Ids and keys of the segments it refers to. */
  segments: string[];
}

export interface Segment {
  id: string;
  key: string;
  name: string;
  description: string;
  kind: 'dynamic' | 'manual';
  definition: Condition | null;
  deps: SegmentDeps;
  timeBased: boolean;
  version: number;
  status: 'building' | 'ready';
  evaluatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What changed for a person, as recorded in the dirty queue: `event:NAME`, or one of these. */
export type DirtyKind = 'attributes' | 'consent' | 'messages' | 'groups' | 'lists';
