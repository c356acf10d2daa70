// Kysely table types: Delivery and consent: senders, domains, messages, the dev inbox, topics, consent, suppressions, tracking, outbound webhooks and Salesforce. Keep in step with src/migrations.
import type { ColumnType, Generated } from 'kysely';
import type { Timestamp, JsonCol } from './columns.ts';

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
  /** When the last double opt-in confirmation for this pending state was queued. */
  confirmation_sent_at: Timestamp | null;
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
