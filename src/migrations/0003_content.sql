-- Content resources (layouts, components, snippets, templates): every save is a new numbered version;
-- the resource points at its latest draft and, once published, at the published version.

CREATE TABLE content_resources (
  workspace_id       text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id                 text COLLATE "C" NOT NULL,
  kind               text COLLATE "C" NOT NULL CHECK (kind IN ('layout', 'component', 'snippet', 'template')),
  name               text COLLATE "C" NOT NULL,
  draft_version      int NOT NULL,
  published_version  int,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, kind, name)
);

CREATE TABLE content_versions (
  workspace_id  text COLLATE "C" NOT NULL,
  resource_id   text COLLATE "C" NOT NULL,
  version       int NOT NULL,
  body          jsonb NOT NULL,
  created_at    timestamptz NOT NULL,
  published_at  timestamptz,
  PRIMARY KEY (workspace_id, resource_id, version),
  FOREIGN KEY (workspace_id, resource_id) REFERENCES content_resources (workspace_id, id) ON DELETE CASCADE
);
