// Kysely table types: Segments, their members, history and dirty queue; imports. Keep in step with src/migrations.
import type { ColumnType, Generated } from 'kysely';
import type { Timestamp } from './columns.ts';

export interface SegmentsTable {
  workspace_id: string;
  id: string;
  key: string;
  name: string;
  description: ColumnType<string, string | undefined, string>;
  kind: 'dynamic' | 'manual';
  definition: ColumnType<unknown, string | null, string | null>;
  deps: ColumnType<Record<string, unknown>, string, string>;
  time_based: boolean;
  version: ColumnType<number, number | undefined, number>;
  status: ColumnType<'building' | 'ready', 'building' | 'ready' | undefined, 'building' | 'ready'>;
  evaluated_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface SegmentMembersTable {
  workspace_id: string;
  segment_id: string;
  person_id: string;
  entered_at: Date;
}

export interface SegmentChangesTable {
  workspace_id: string;
  id: Generated<string>;
  segment_id: string;
  person_id: string;
  change: 'entered' | 'exited';
  reason: string;
  at: Date;
}

export interface SegmentDirtyTable {
  id: Generated<string>;
  workspace_id: string;
  person_id: string;
  what: string[];
  at: Date;
}

export interface ImportsTable {
  workspace_id: string;
  id: string;
  kind: 'people';
  status: 'waiting' | 'running' | 'done' | 'failed';
  options: ColumnType<Record<string, unknown>, string, string>;
  file_name: string | null;
  bytes_read: ColumnType<string, number | undefined, number | string>;
  rows_done: ColumnType<string, number | undefined, number | string>;
  rows_created: ColumnType<string, number | undefined, number | string>;
  rows_updated: ColumnType<string, number | undefined, number | string>;
  rows_skipped: ColumnType<string, number | undefined, number | string>;
  rows_failed: ColumnType<string, number | undefined, number | string>;
  errors: ColumnType<unknown[], string | undefined, string>;
  failure: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  created_at: Timestamp;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  updated_at: Timestamp;
}
