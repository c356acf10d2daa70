-- Segments: dynamic segments (a JSON condition definition compiled to SQL) and manual lists, their
-- current members, and the history of every entry and exit (the segment events journeys trigger on).

CREATE TABLE segments (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id            text COLLATE "C" NOT NULL,
  key           text COLLATE "C" NOT NULL,
  name          text NOT NULL,
  description   text NOT NULL DEFAULT '',
  kind          text COLLATE "C" NOT NULL CHECK (kind IN ('dynamic', 'manual')),
  definition    jsonb,             -- dynamic only
  -- What the definition reads (the segments it references included), so that a change to a person
  -- re-evaluates only the segments it could affect: {events: [...], attributes: bool, topics: bool, ...}.
  deps          jsonb NOT NULL DEFAULT '{}',
  time_based    boolean NOT NULL DEFAULT false, -- has windows relative to now: re-evaluated on a schedule
  version       int NOT NULL DEFAULT 1,
  status        text COLLATE "C" NOT NULL DEFAULT 'building' CHECK (status IN ('building', 'ready')),
  evaluated_at  timestamptz,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, key)
);

CREATE TABLE segment_members (
  workspace_id  text COLLATE "C" NOT NULL,
  segment_id    text COLLATE "C" NOT NULL,
  person_id     uuid NOT NULL,
  entered_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, segment_id, person_id),
  FOREIGN KEY (workspace_id, segment_id) REFERENCES segments (workspace_id, id) ON DELETE CASCADE,
  FOREIGN KEY (workspace_id, person_id) REFERENCES people (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX segment_members_person ON segment_members (workspace_id, person_id);

-- Append-only: every entry and exit, in order (id). Journeys read it from a cursor.
CREATE TABLE segment_changes (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id            bigint GENERATED ALWAYS AS IDENTITY,
  segment_id    text COLLATE "C" NOT NULL,
  person_id     uuid NOT NULL,
  change        text COLLATE "C" NOT NULL CHECK (change IN ('entered', 'exited')),
  reason        text COLLATE "C" NOT NULL, -- event, attribute, time, build, list, import, ...
  at            timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX segment_changes_segment ON segment_changes (workspace_id, segment_id, id DESC);
CREATE INDEX segment_changes_person ON segment_changes (workspace_id, person_id, id DESC);

-- People whose events, attributes, consent or messages changed since their segments were last
-- evaluated. Written in the transaction that changed them; drained by the segment worker.
CREATE TABLE segment_dirty (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id  text COLLATE "C" NOT NULL,
  person_id     uuid NOT NULL,
  -- What changed: event names, 'attributes', 'consent', 'messages', 'groups', 'lists'.
  what          text[] NOT NULL,
  at            timestamptz NOT NULL
);

-- Event conditions: matching events of one name in a time window, per person, from the index alone.
CREATE INDEX events_track_name_time ON events (workspace_id, name, timestamp) INCLUDE (person_id) WHERE type = 'track';
-- Message activity: opens and clicks within a window.
CREATE INDEX message_events_type_at ON message_events (workspace_id, type, at) INCLUDE (message_id);
-- Reachability: suppression of a person's address.
CREATE INDEX messages_person_sent ON messages (workspace_id, person_id, sent_at) WHERE sent_at IS NOT NULL;

-- Segment conditions read JSON values: a number, or a string that is one ("42", "-3.5"); else NULL.
CREATE FUNCTION tandem_num(v jsonb) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE jsonb_typeof(v)
    WHEN 'number' THEN v::numeric
    WHEN 'string' THEN CASE WHEN (v #>> '{}') ~ '^-?[0-9]{1,30}(\.[0-9]{1,30})?$' THEN (v #>> '{}')::numeric END
  END
$$;

-- A JSON value as a time: unix seconds, or an ISO 8601 date ("2026-03-01", midnight UTC) or date-time
-- ("2026-03-01T10:00:00Z", "…+02:00"; no offset means UTC). Anything else, an impossible date
-- included ("2026-02-30"), is NULL, never an error.
CREATE FUNCTION tandem_ts(v jsonb) RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE jsonb_typeof(v)
    WHEN 'number' THEN CASE WHEN abs(v::numeric) < 1e11 THEN to_timestamp(v::float8) END
    WHEN 'string' THEN CASE
      WHEN (v #>> '{}') ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?$'
      THEN CASE  -- nested, not AND: the day check may only run once the shape is known good
        WHEN substr(v #>> '{}', 1, 4)::int = 0 THEN NULL
        WHEN substr(v #>> '{}', 9, 2)::int <= extract(day from (make_date(substr(v #>> '{}', 1, 4)::int, substr(v #>> '{}', 6, 2)::int, 1) + interval '1 month - 1 day'))
        THEN CASE WHEN (v #>> '{}') ~ '(Z|[+-][0-9]{2}:[0-9]{2})$' THEN (v #>> '{}')::timestamptz
                  ELSE ((v #>> '{}')::timestamp AT TIME ZONE 'UTC') END
      END
    END
  END
$$;
