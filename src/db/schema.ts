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

export interface SendersTable {
  workspace_id: string;
  id: string;
  channel: 'email' | 'sms';
  kind: string;
  name: string;
  config: ColumnType<Record<string, unknown>, string, string>;
  is_default: ColumnType<boolean, boolean | undefined, boolean>;
  rate_per_second: ColumnType<string, number | undefined, number>;
  concurrency: ColumnType<number, number | undefined, number>;
  status: ColumnType<'active' | 'paused', 'active' | 'paused' | undefined, 'active' | 'paused'>;
  paused_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface SendingDomainsTable {
  workspace_id: string;
  domain: string;
  selector: string;
  private_key: string;
  public_key: string;
  created_at: Date;
}

export interface MessagesTable {
  workspace_id: string;
  id: string;
  idempotency_key: string;
  person_id: string | null;
  channel: string;
  source: string;
  template_id: string | null;
  template_version: number | null;
  to_address: string;
  request: ColumnType<Record<string, unknown>, string, string>;
  retain: ColumnType<boolean, boolean | undefined, boolean>;
  status: string;
  status_reason: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  sender_id: string | null;
  provider: string | null;
  provider_message_id: string | null;
  from_address: string | null;
  subject: string | null;
  html: string | null;
  text: string | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
  due_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  lease: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface MessageEventsTable {
  workspace_id: string;
  message_id: string;
  seq: Generated<string>;
  type: string;
  at: Date;
  data: ColumnType<Record<string, unknown>, string | undefined, string>;
}

export interface ApiIdempotencyTable {
  workspace_id: string;
  route: string;
  key: string;
  request_hash: string;
  status: number;
  response: ColumnType<unknown, string, string>;
  created_at: Date;
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

export interface WebhookEndpointsTable {
  workspace_id: string;
  id: string;
  url: string;
  description: ColumnType<string, string | undefined, string>;
  event_types: string[];
  secret: string;
  status: ColumnType<'active' | 'disabled', 'active' | 'disabled' | undefined, 'active' | 'disabled'>;
  disabled_reason: string | null;
  disabled_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookMessagesTable {
  workspace_id: string;
  id: string;
  type: string;
  payload: JsonCol;
  created_at: Timestamp;
}

export interface WebhookDeliveriesTable {
  workspace_id: string;
  message_id: string;
  endpoint_id: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookAttemptsTable {
  workspace_id: string;
  message_id: string;
  endpoint_id: string;
  attempt: number;
  attempted_at: Timestamp;
  http_status: number | null;
  error_code: string | null;
  error: string | null;
  duration_ms: number;
}

export interface SalesforceConnectionsTable {
  workspace_id: string;
  instance_url: string;
  client_id: string;
  client_secret: string | null;
  refresh_token: string | null;
  last_sync_at: Timestamp | null;
  last_sync_status: 'ok' | 'error' | null;
  last_sync_error: string | null;
  synced_count: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TopicsTable {
  workspace_id: string;
  id: string;
  key: string;
  name: string;
  description: string;
  default_state: 'opt_in' | 'opt_out';
  channel: 'email' | 'sms' | 'any';
  double_opt_in: boolean;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TopicSubscriptionsTable {
  workspace_id: string;
  person_id: string;
  topic_id: string;
  state: 'subscribed' | 'unsubscribed' | 'pending';
  updated_at: Timestamp;
}

export interface ChannelConsentTable {
  workspace_id: string;
  person_id: string;
  channel: 'email' | 'sms';
  unsubscribed: boolean;
  updated_at: Timestamp;
}

export interface ConsentLedgerTable {
  workspace_id: string;
  id: Generated<string>;
  person_id: string | null;
  kind: 'topic' | 'global' | 'suppression';
  channel: 'email' | 'sms' | 'any';
  address: string | null;
  topic: string | null;
  from_state: string;
  to_state: string;
  source: string;
  ip: string | null;
  user_agent: string | null;
  message_id: string | null;
  created_at: Timestamp;
}

export interface SuppressionsTable {
  workspace_id: string;
  channel: 'email' | 'sms';
  address: string;
  reason: 'hard_bounce' | 'complaint' | 'manual' | 'deleted_person';
  source: string;
  created_at: Timestamp;
}

export interface TrackingSettingsTable {
  workspace_id: string;
  open_tracking: boolean;
  click_tracking: boolean;
  utm: ColumnType<Record<string, string> | null, string | null, string | null>;
  updated_at: Timestamp;
}

export interface TrackingLinksTable {
  workspace_id: string;
  message_id: string;
  idx: number;
  url: string;
}

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

export interface Database {
  segments: SegmentsTable;
  segment_members: SegmentMembersTable;
  segment_changes: SegmentChangesTable;
  segment_dirty: SegmentDirtyTable;
  tracking_settings: TrackingSettingsTable;
  tracking_links: TrackingLinksTable;
  workspaces: WorkspacesTable;
  dev_inbox: DevInboxTable;
  instance_secrets: InstanceSecretsTable;
  worker_heartbeats: WorkerHeartbeatsTable;
  senders: SendersTable;
  sending_domains: SendingDomainsTable;
  messages: MessagesTable;
  message_events: MessageEventsTable;
  api_idempotency: ApiIdempotencyTable;
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
  topics: TopicsTable;
  topic_subscriptions: TopicSubscriptionsTable;
  channel_consent: ChannelConsentTable;
  consent_ledger: ConsentLedgerTable;
  suppressions: SuppressionsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_messages: WebhookMessagesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  salesforce_connections: SalesforceConnectionsTable;
  imports: ImportsTable;
}
