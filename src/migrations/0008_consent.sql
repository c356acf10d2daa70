-- Consent: topics (subscription categories), each person's state per topic and per channel (the
-- global unsubscribe), an append-only ledger of every change, and the suppression list checked
-- before every send.

CREATE TABLE topics (
  workspace_id   text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id             text COLLATE "C" NOT NULL,
  key            text COLLATE "C" NOT NULL,
  name           text NOT NULL,
  description    text NOT NULL DEFAULT '',
  default_state  text COLLATE "C" NOT NULL CHECK (default_state IN ('opt_in', 'opt_out')),
  channel        text COLLATE "C" NOT NULL CHECK (channel IN ('email', 'sms', 'any')),
  double_opt_in  boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, key)
);

-- A row only once a person's state differs from nothing said: no row means the topic's default.
CREATE TABLE topic_subscriptions (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  person_id     uuid NOT NULL,
  topic_id      text COLLATE "C" NOT NULL,
  state         text COLLATE "C" NOT NULL CHECK (state IN ('subscribed', 'unsubscribed', 'pending')),
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, person_id, topic_id),
  FOREIGN KEY (workspace_id, person_id) REFERENCES people(workspace_id, id) ON DELETE CASCADE,
  FOREIGN KEY (workspace_id, topic_id) REFERENCES topics(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX topic_subscriptions_topic ON topic_subscriptions (workspace_id, topic_id);

-- The global unsubscribe per channel; no row means subscribed.
CREATE TABLE channel_consent (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  person_id     uuid NOT NULL,
  channel       text COLLATE "C" NOT NULL CHECK (channel IN ('email', 'sms')),
  unsubscribed  boolean NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, person_id, channel),
  FOREIGN KEY (workspace_id, person_id) REFERENCES people(workspace_id, id) ON DELETE CASCADE
);

-- Append-only. Not tied to the people table: the record of an opt-out outlives the person.
CREATE TABLE consent_ledger (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id            bigint GENERATED ALWAYS AS IDENTITY,
  person_id     uuid,
  kind          text COLLATE "C" NOT NULL CHECK (kind IN ('topic', 'global', 'suppression')),
  channel       text COLLATE "C" NOT NULL CHECK (channel IN ('email', 'sms', 'any')),
  address       text COLLATE "C",
  topic         text COLLATE "C",
  from_state    text COLLATE "C" NOT NULL,
  to_state      text COLLATE "C" NOT NULL,
  source        text COLLATE "C" NOT NULL CHECK (source IN ('one_click', 'preference_centre', 'api', 'import', 'form', 'bounce', 'complaint', 'admin')),
  ip            text COLLATE "C",
  user_agent    text,
  message_id    text COLLATE "C",
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX consent_ledger_person ON consent_ledger (workspace_id, person_id, id DESC);

CREATE TABLE suppressions (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  channel       text COLLATE "C" NOT NULL CHECK (channel IN ('email', 'sms')),
  address       text COLLATE "C" NOT NULL,
  reason        text COLLATE "C" NOT NULL CHECK (reason IN ('hard_bounce', 'complaint', 'manual', 'deleted_person')),
  source        text COLLATE "C" NOT NULL,
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, channel, address)
);
CREATE INDEX suppressions_recent ON suppressions (workspace_id, created_at DESC, channel, address);
