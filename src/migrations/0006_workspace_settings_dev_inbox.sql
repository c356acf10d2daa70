-- Workspace settings (postal address and sending defaults the templates read as `workspace.*`), and
-- the dev inbox: where email goes while no sender is configured (test sends today).

ALTER TABLE workspaces ADD COLUMN settings jsonb NOT NULL DEFAULT '{}';

CREATE TABLE dev_inbox (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id            text COLLATE "C" NOT NULL,
  channel       text COLLATE "C" NOT NULL,
  source        text COLLATE "C" NOT NULL,
  to_address    text COLLATE "C" NOT NULL,
  from_address  text COLLATE "C",
  subject       text,
  html          text,
  text          text,
  meta          jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id)
);

CREATE INDEX dev_inbox_recent ON dev_inbox (workspace_id, created_at DESC, id DESC);
