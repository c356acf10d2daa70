// Kysely table types for the SQL in src/migrations. Keep in step with the migrations.
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json = Record<string, unknown>;
type JsonCol = JSONColumnType<Json, string | Json, string | Json>;

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

export interface DevInboxTable {
  workspace_id: string;
  id: string;
  channel: string;
  source: string;
  to_address: string;
  from_address: string | null;
  subject: string | null;
  html: string | null;
  text: string | null;
  meta: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Date;
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

export interface ContentResourcesTable {
  workspace_id: string;
  id: string;
  kind: 'layout' | 'component' | 'snippet' | 'template';
  name: string;
  draft_version: number;
  published_version: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ContentVersionsTable {
  workspace_id: string;
  resource_id: string;
  version: number;
  body: JsonCol;
  created_at: Timestamp;
  published_at: Timestamp | null;
}

export interface AssetBlobsTable {
  hash: string;
  content_type: string;
  bytes: number;
  width: number | null;
  height: number | null;
  created_at: Timestamp;
}

export interface AssetBlobDataTable {
  key: string;
  data: Buffer;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface AssetsTable {
  workspace_id: string;
  id: string;
  hash: string;
  name: string;
  alt: ColumnType<string, string | undefined, string>;
  folder: string | null;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  source_url: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface LinkChecksTable {
  workspace_id: string;
  template_id: string;
  checked_at: Timestamp;
}

export interface LinkCheckResultsTable {
  workspace_id: string;
  template_id: string;
  url: string;
  kind: 'link' | 'image';
  status: 'ok' | 'broken' | 'blocked' | 'skipped';
  http_status: number | null;
  error: string | null;
  checked_at: Timestamp;
}

export interface Database {
  workspaces: WorkspacesTable;
  dev_inbox: DevInboxTable;
  instance_secrets: InstanceSecretsTable;
  api_keys: ApiKeysTable;
  people: PeopleTable;
  person_identifiers: PersonIdentifiersTable;
  person_suppressions: PersonSuppressionsTable;
  events: EventsTable;
  event_dedupe: EventDedupeTable;
  objects: ObjectsTable;
  object_relationships: ObjectRelationshipsTable;
  devices: DevicesTable;
  event_types: EventTypesTable;
  event_type_properties: EventTypePropertiesTable;
  event_type_changes: EventTypeChangesTable;
  content_resources: ContentResourcesTable;
  content_versions: ContentVersionsTable;
  asset_blobs: AssetBlobsTable;
  asset_blob_data: AssetBlobDataTable;
  assets: AssetsTable;
  link_checks: LinkChecksTable;
  link_check_results: LinkCheckResultsTable;
}
