-- Foundation: workspaces and keys, people and identity, events, dedupe, groups, devices, catalog.
-- Every row belongs to a workspace; every lookup index starts with workspace_id.
-- Text columns use the "C" collation: ids, keys and names compare bytewise, fast and the same on every server.

CREATE TABLE workspaces (
  id          text COLLATE "C" PRIMARY KEY,
  name        text COLLATE "C" NOT NULL,
  site_id     text COLLATE "C" NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Keys are stored as SHA-256 hashes; only the prefix is kept readable for listing.
CREATE TABLE api_keys (
  id            text COLLATE "C" PRIMARY KEY,
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  kind          text COLLATE "C" NOT NULL CHECK (kind IN ('write', 'track', 'app')),
  name          text COLLATE "C" NOT NULL DEFAULT '',
  hash          text COLLATE "C" NOT NULL UNIQUE,
  prefix        text COLLATE "C" NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  last_used_at  timestamptz
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, kind);

CREATE TABLE people (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id            uuid NOT NULL,
  external_id   text COLLATE "C",
  email         text COLLATE "C",
  phone         text COLLATE "C",
  attributes    jsonb NOT NULL DEFAULT '{}',
  timezone      text COLLATE "C",
  locale        text COLLATE "C",
  identified    boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id)
) WITH (fillfactor = 80); -- room on each page so that attribute updates stay HOT (no index writes)
CREATE INDEX people_email ON people (workspace_id, lower(email)) WHERE email IS NOT NULL;
CREATE INDEX people_external_id ON people (workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX people_cursor ON people (workspace_id, created_at DESC, id DESC);

-- Every id a person is known by: Segment userId / Customer.io id ('user'), anonymous ids ('anonymous').
-- A merge moves the secondary's identifiers to the primary, so old ids keep resolving.
CREATE TABLE person_identifiers (
  workspace_id  text COLLATE "C" NOT NULL,
  kind          text COLLATE "C" NOT NULL CHECK (kind IN ('user', 'anonymous')),
  value         text COLLATE "C" NOT NULL,
  person_id     uuid NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, kind, value),
  FOREIGN KEY (workspace_id, person_id) REFERENCES people (workspace_id, id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX person_identifiers_person ON person_identifiers (workspace_id, person_id);

-- Delete-and-suppress: identifiers that later calls must not bring back to life.
CREATE TABLE person_suppressions (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  kind          text COLLATE "C" NOT NULL CHECK (kind IN ('user', 'anonymous', 'email')),
  value         text COLLATE "C" NOT NULL,
  reason        text COLLATE "C" NOT NULL DEFAULT 'deleted',
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, kind, value)
);

CREATE TABLE events (
  workspace_id  text COLLATE "C" NOT NULL,
  id            bigint GENERATED ALWAYS AS IDENTITY,
  person_id     uuid,
  message_id    text COLLATE "C",
  type          text COLLATE "C" NOT NULL CHECK (type IN ('track', 'identify', 'page', 'screen', 'group', 'alias')),
  name          text COLLATE "C",
  properties    jsonb NOT NULL DEFAULT '{}',
  context       jsonb NOT NULL DEFAULT '{}',
  user_id       text COLLATE "C",
  anonymous_id  text COLLATE "C",
  source        text COLLATE "C" NOT NULL,
  timestamp     timestamptz NOT NULL,
  received_at   timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX events_person ON events (workspace_id, person_id, timestamp DESC, id DESC);
CREATE INDEX events_name ON events (workspace_id, type, name, received_at DESC);

-- messageId / Customer.io event id dedupe window (TANDEM_DEDUPE_DAYS, default 7 days).
CREATE TABLE event_dedupe (
  workspace_id  text COLLATE "C" NOT NULL,
  message_id    text COLLATE "C" NOT NULL,
  received_at   timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, message_id)
);
-- BRIN: rows arrive in received_at order, so a tiny index serves the hourly purge.
CREATE INDEX event_dedupe_age ON event_dedupe USING brin (received_at);

-- Accounts / objects (Segment group, Customer.io objects) and people's relations to them.
CREATE TABLE objects (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  object_type   text COLLATE "C" NOT NULL,
  object_id     text COLLATE "C" NOT NULL,
  attributes    jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, object_type, object_id)
);

CREATE TABLE object_relationships (
  workspace_id  text COLLATE "C" NOT NULL,
  person_id     uuid NOT NULL,
  object_type   text COLLATE "C" NOT NULL,
  object_id     text COLLATE "C" NOT NULL,
  attributes    jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, person_id, object_type, object_id),
  FOREIGN KEY (workspace_id, person_id) REFERENCES people (workspace_id, id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX object_relationships_object ON object_relationships (workspace_id, object_type, object_id);

CREATE TABLE devices (
  workspace_id  text COLLATE "C" NOT NULL,
  person_id     uuid NOT NULL,
  device_id     text COLLATE "C" NOT NULL,
  platform      text COLLATE "C",
  attributes    jsonb NOT NULL DEFAULT '{}',
  last_used     timestamptz,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, device_id),
  FOREIGN KEY (workspace_id, person_id) REFERENCES people (workspace_id, id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX devices_person ON devices (workspace_id, person_id);

-- Event catalog. Counts over 24 h / 7 d are read from events; these rows hold what is not derivable cheaply.
CREATE TABLE event_types (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  type          text COLLATE "C" NOT NULL,
  name          text COLLATE "C" NOT NULL,
  first_seen    timestamptz NOT NULL,
  last_seen     timestamptz NOT NULL,
  sample        jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (workspace_id, type, name)
);

CREATE TABLE event_type_properties (
  workspace_id  text COLLATE "C" NOT NULL,
  type          text COLLATE "C" NOT NULL,
  name          text COLLATE "C" NOT NULL,
  path          text COLLATE "C" NOT NULL,
  data_type     text COLLATE "C" NOT NULL,
  seen_types    text[] NOT NULL,
  first_seen    timestamptz NOT NULL,
  last_seen     timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, type, name, path),
  FOREIGN KEY (workspace_id, type, name) REFERENCES event_types (workspace_id, type, name) ON DELETE CASCADE
);

CREATE TABLE event_type_changes (
  workspace_id  text COLLATE "C" NOT NULL,
  id            bigint GENERATED ALWAYS AS IDENTITY,
  type          text COLLATE "C" NOT NULL,
  name          text COLLATE "C" NOT NULL,
  path          text COLLATE "C" NOT NULL,
  from_type     text COLLATE "C" NOT NULL,
  to_type       text COLLATE "C" NOT NULL,
  changed_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX event_type_changes_name ON event_type_changes (workspace_id, type, name, changed_at DESC);
