// Kysely table types for the SQL in src/migrations, one file per area in schema/; keep in step with the migrations.
import type { AssetBlobDataTable, AssetBlobsTable, AssetsTable, ContentResourcesTable, ContentVersionsTable, LinkCheckResultsTable, LinkChecksTable } from './schema/content.ts';
import type { ApiIdempotencyTable, ChannelConsentTable, ConsentLedgerTable, DevInboxTable, MessageEventsTable, MessagesTable, SalesforceConnectionsTable, SendersTable, SendingDomainsTable, SuppressionsTable, TopicSubscriptionsTable, TopicsTable, TrackingLinksTable, TrackingSettingsTable, WebhookAttemptsTable, WebhookDeliveriesTable, WebhookEndpointsTable, WebhookMessagesTable } from './schema/delivery.ts';
import type { ApiKeysTable, DevicesTable, EventDedupeTable, EventTypeChangesTable, EventTypePropertiesTable, EventTypesTable, EventsTable, InstanceSecretsTable, ObjectRelationshipsTable, ObjectsTable, PeopleTable, PersonIdentifiersTable, PersonSuppressionsTable, WorkerHeartbeatsTable, WorkspacesTable } from './schema/people.ts';
import type { ImportsTable, SegmentChangesTable, SegmentDirtyTable, SegmentMembersTable, SegmentsTable } from './schema/segments.ts';

export * from './schema/content.ts';
export * from './schema/delivery.ts';
export * from './schema/people.ts';
export * from './schema/segments.ts';

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
