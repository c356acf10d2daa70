-- CSV imports of people: one row per import with its options, progress counters and the first row
-- errors. Counters are written in the transaction of each chunk, so they always match what is committed.

CREATE TABLE imports (
  workspace_id   text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id             text COLLATE "C" NOT NULL,
  kind           text COLLATE "C" NOT NULL CHECK (kind IN ('people')),
  status         text COLLATE "C" NOT NULL CHECK (status IN ('waiting', 'running', 'done', 'failed')),
  -- {list: {id, key}, updateOnly, dryRun}
  options        jsonb NOT NULL DEFAULT '{}',
  file_name      text,
  bytes_read     bigint NOT NULL DEFAULT 0,
  rows_done      bigint NOT NULL DEFAULT 0,
  rows_created   bigint NOT NULL DEFAULT 0,
  rows_updated   bigint NOT NULL DEFAULT 0,
  rows_skipped   bigint NOT NULL DEFAULT 0,
  rows_failed    bigint NOT NULL DEFAULT 0,
  -- The first 1,000 row errors and skips: [{line, field, code, message}].
  errors         jsonb NOT NULL DEFAULT '[]',
  -- Why a failed import stopped: {code, message, line?}.
  failure        jsonb,
  created_at     timestamptz NOT NULL,
  started_at     timestamptz,
  finished_at    timestamptz,
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX imports_recent ON imports (workspace_id, created_at DESC, id DESC);

-- Imported rows may name a person by phone alone; match them without a scan of every person.
CREATE INDEX people_phone ON people (workspace_id, phone) WHERE phone IS NOT NULL;
