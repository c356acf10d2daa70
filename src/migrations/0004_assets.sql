-- Hosted assets. A file is stored once, by the SHA-256 of its bytes (asset_blobs: shared by every
-- workspace, since the same bytes are the same file); each workspace's library entry is an assets row.
-- The bytes themselves live in the configured blob store; asset_blob_data is the PostgreSQL store.

CREATE TABLE asset_blobs (
  hash          text COLLATE "C" PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
  content_type  text COLLATE "C" NOT NULL,
  bytes         int NOT NULL,
  width         int,
  height        int,
  created_at    timestamptz NOT NULL
);

CREATE TABLE asset_blob_data (
  key         text COLLATE "C" PRIMARY KEY,
  data        bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE assets (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id            text COLLATE "C" NOT NULL,
  hash          text COLLATE "C" NOT NULL REFERENCES asset_blobs(hash),
  name          text COLLATE "C" NOT NULL,
  alt           text COLLATE "C" NOT NULL DEFAULT '',
  folder        text COLLATE "C",
  tags          text[] COLLATE "C" NOT NULL DEFAULT '{}',
  source_url    text COLLATE "C",
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, hash)
);

CREATE INDEX assets_by_created ON assets (workspace_id, created_at DESC, id DESC);
CREATE INDEX assets_by_folder ON assets (workspace_id, folder, created_at DESC, id DESC);
-- Across workspaces on purpose: a blob is deleted only when no workspace's asset points at it.
CREATE INDEX assets_by_hash ON assets (hash);
