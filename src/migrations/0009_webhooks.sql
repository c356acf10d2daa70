-- Outbound webhooks (Standard Webhooks): endpoints per workspace, one message per event, one delivery
-- per (message, endpoint) with every attempt recorded. And the Salesforce connection that pushes
-- email opt-outs to Leads and Contacts.

CREATE TABLE webhook_endpoints (
  workspace_id     text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id               text COLLATE "C" NOT NULL,
  url              text COLLATE "C" NOT NULL,
  description      text NOT NULL DEFAULT '',
  -- Event types subscribed; '{*}' is every type.
  event_types      text[] COLLATE "C" NOT NULL,
  -- whsec_ + base64 of 24 random bytes (stored as is: it is needed to sign).
  secret           text COLLATE "C" NOT NULL,
  status           text COLLATE "C" NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  disabled_reason  text,
  disabled_at      timestamptz,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id)
);

CREATE INDEX webhook_endpoints_created ON webhook_endpoints (workspace_id, created_at, id);

CREATE TABLE webhook_messages (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id            text COLLATE "C" NOT NULL,
  type          text COLLATE "C" NOT NULL,
  -- The JSON object sent, {type, timestamp, data}: json, not jsonb, so that its text (key order
  -- included) is kept and every retry sends the same bytes.
  payload       json NOT NULL,
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id)
);

CREATE INDEX webhook_messages_created ON webhook_messages (workspace_id, created_at);

CREATE TABLE webhook_deliveries (
  workspace_id     text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  message_id       text COLLATE "C" NOT NULL,
  endpoint_id      text COLLATE "C" NOT NULL,
  status           text COLLATE "C" NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         int NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, message_id, endpoint_id),
  FOREIGN KEY (workspace_id, message_id) REFERENCES webhook_messages (workspace_id, id) ON DELETE CASCADE,
  FOREIGN KEY (workspace_id, endpoint_id) REFERENCES webhook_endpoints (workspace_id, id) ON DELETE CASCADE
);

CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (workspace_id, endpoint_id, created_at DESC);

CREATE TABLE webhook_attempts (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  message_id    text COLLATE "C" NOT NULL,
  endpoint_id   text COLLATE "C" NOT NULL,
  attempt       int NOT NULL,
  attempted_at  timestamptz NOT NULL,
  -- null when no HTTP answer came (guard refusal, timeout, connection error).
  http_status   int,
  -- A stable code (net.*, webhook.*) when the attempt failed.
  error_code    text COLLATE "C",
  error         text,
  duration_ms   int NOT NULL,
  PRIMARY KEY (workspace_id, message_id, endpoint_id, attempt),
  FOREIGN KEY (workspace_id, message_id, endpoint_id)
    REFERENCES webhook_deliveries (workspace_id, message_id, endpoint_id) ON DELETE CASCADE
);

CREATE TABLE salesforce_connections (
  workspace_id      text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
  instance_url      text COLLATE "C" NOT NULL,
  client_id         text COLLATE "C" NOT NULL,
  -- Stored in the database as given (docs/webhooks.md says so).
  client_secret     text COLLATE "C",
  refresh_token     text COLLATE "C",
  last_sync_at      timestamptz,
  last_sync_status  text COLLATE "C" CHECK (last_sync_status IN ('ok', 'error')),
  last_sync_error   text,
  synced_count      int NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL
);
