-- Link checker: the last check of each template (one row, so a template without links still shows
-- when it was checked) and the result per URL. A new check replaces both wholesale.

CREATE TABLE link_checks (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  template_id   text COLLATE "C" NOT NULL,
  checked_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, template_id),
  FOREIGN KEY (workspace_id, template_id) REFERENCES content_resources (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE link_check_results (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  template_id   text COLLATE "C" NOT NULL,
  url           text COLLATE "C" NOT NULL,
  kind          text COLLATE "C" NOT NULL CHECK (kind IN ('link', 'image')),
  status        text COLLATE "C" NOT NULL CHECK (status IN ('ok', 'broken', 'blocked', 'skipped')),
  http_status   int,
  error         text COLLATE "C",
  checked_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, template_id, url, kind),
  FOREIGN KEY (workspace_id, template_id) REFERENCES content_resources (workspace_id, id) ON DELETE CASCADE
);
