-- Delivery: senders, sending domains (DKIM), one message row per send (unique idempotency key per
-- workspace), its status timeline, and the transactional API's Idempotency-Key answers.

CREATE TABLE senders (
  workspace_id    text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id              text COLLATE "C" NOT NULL,
  channel         text COLLATE "C" NOT NULL CHECK (channel IN ('email', 'sms')),
  kind            text COLLATE "C" NOT NULL,
  name            text NOT NULL,
  config          jsonb NOT NULL,
  is_default      boolean NOT NULL DEFAULT false,
  rate_per_second numeric NOT NULL DEFAULT 50,
  concurrency     int NOT NULL DEFAULT 5,
  status          text COLLATE "C" NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
  paused_reason   text,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX senders_one_default ON senders (workspace_id, channel) WHERE is_default;

CREATE TABLE sending_domains (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  domain        text COLLATE "C" NOT NULL,
  selector      text COLLATE "C" NOT NULL,
  private_key   text NOT NULL,
  public_key    text NOT NULL,
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, domain)
);

CREATE TABLE messages (
  workspace_id         text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id                   text COLLATE "C" NOT NULL,
  idempotency_key      text COLLATE "C" NOT NULL,
  person_id            uuid,
  channel              text COLLATE "C" NOT NULL,
  source               text COLLATE "C" NOT NULL,
  template_id          text COLLATE "C",
  template_version     int,
  to_address           text COLLATE "C" NOT NULL,
  request              jsonb NOT NULL,
  retain               boolean NOT NULL DEFAULT true,
  status               text COLLATE "C" NOT NULL,
  status_reason        text,
  attempts             int NOT NULL DEFAULT 0,
  sender_id            text COLLATE "C",
  provider             text COLLATE "C",
  provider_message_id  text COLLATE "C",
  from_address         text,
  subject              text,
  html                 text,
  text                 text,
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL,
  sent_at              timestamptz,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, idempotency_key)
);
CREATE INDEX messages_person ON messages (workspace_id, person_id, created_at DESC);
CREATE INDEX messages_provider_id ON messages (workspace_id, provider_message_id) WHERE provider_message_id IS NOT NULL;

CREATE TABLE message_events (
  workspace_id  text COLLATE "C" NOT NULL,
  message_id    text COLLATE "C" NOT NULL,
  seq           bigint GENERATED ALWAYS AS IDENTITY,
  type          text COLLATE "C" NOT NULL,
  at            timestamptz NOT NULL,
  data          jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (workspace_id, message_id, seq),
  FOREIGN KEY (workspace_id, message_id) REFERENCES messages (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE api_idempotency (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  route         text COLLATE "C" NOT NULL,
  key           text COLLATE "C" NOT NULL,
  request_hash  text COLLATE "C" NOT NULL,
  status        int NOT NULL,
  response      jsonb NOT NULL,
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, route, key)
);
CREATE INDEX api_idempotency_age ON api_idempotency (created_at);

-- Inbound notifications already applied (bounce and complaint webhooks are replayed by providers).
CREATE TABLE inbound_events (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  event_id      text COLLATE "C" NOT NULL,
  received_at   timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, event_id)
);
