// Kysely table types: Workspaces, keys, the instance and its workers; people, identities, events, objects and the event catalog. Keep in step with src/migrations.
import type { ColumnType, Generated } from 'kysely';
import type { Timestamp, JsonCol } from './columns.ts';

export interface WorkspacesTable {
  id: string;
  name: string;
  site_id: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  settings: ColumnType<Record<string, unknown>, string | undefined, string>;
}

export interface InstanceSecretsTable {
  name: string;
  value: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

/** A running worker process and its graphile-worker ids (src/worker/recovery.ts). */
export interface WorkerHeartbeatsTable {
  id: string;
  worker_ids: ColumnType<string[], string[] | undefined, string[]>;
  hostname: string;
  pid: number;
  started_at: ColumnType<Date, Date | string | undefined, never>;
  seen_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface ApiKeysTable {
  id: string;
  workspace_id: string;
  kind: 'write' | 'track' | 'app';
  name: ColumnType<string, string | undefined, string>;
  hash: string;
  prefix: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

export interface PeopleTable {
  workspace_id: string;
  id: string;
  external_id: string | null;
  email: string | null;
  phone: string | null;
  attributes: JsonCol;
  timezone: string | null;
  locale: string | null;
  identified: boolean;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PersonIdentifiersTable {
  workspace_id: string;
  kind: 'user' | 'anonymous';
  value: string;
  person_id: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface PersonSuppressionsTable {
  workspace_id: string;
  kind: 'user' | 'anonymous' | 'email';
  value: string;
  reason: ColumnType<string, string | undefined, string>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  /** Shared by the identifiers one delete-and-suppress marked. */
  deletion_id: string | null;
}

export type EventKind = 'track' | 'identify' | 'page' | 'screen' | 'group' | 'alias';

export interface EventsTable {
  workspace_id: string;
  id: Generated<string>;
  person_id: string | null;
  message_id: string | null;
  type: EventKind;
  name: string | null;
  properties: JsonCol;
  context: JsonCol;
  user_id: string | null;
  anonymous_id: string | null;
  source: string;
  timestamp: Timestamp;
  received_at: Timestamp;
}

export interface EventDedupeTable {
  workspace_id: string;
  message_id: string;
  received_at: Timestamp;
}

export interface ObjectsTable {
  workspace_id: string;
  object_type: string;
  object_id: string;
  attributes: JsonCol;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ObjectRelationshipsTable {
  workspace_id: string;
  person_id: string;
  object_type: string;
  object_id: string;
  attributes: JsonCol;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface DevicesTable {
  workspace_id: string;
  person_id: string;
  device_id: string;
  platform: string | null;
  attributes: JsonCol;
  last_used: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EventTypesTable {
  workspace_id: string;
  type: string;
  name: string;
  first_seen: Timestamp;
  last_seen: Timestamp;
  sample: JsonCol;
}

export interface EventTypePropertiesTable {
  workspace_id: string;
  type: string;
  name: string;
  path: string;
  data_type: string;
  seen_types: string[];
  first_seen: Timestamp;
  last_seen: Timestamp;
}

export interface EventTypeChangesTable {
  workspace_id: string;
  id: Generated<string>;
  type: string;
  name: string;
  path: string;
  from_type: string;
  to_type: string;
  changed_at: Timestamp;
}
