-- Tracking: each workspace's tracking settings (open pixel, click tracking, UTM tags) and the links of
-- every sent message (click tokens carry only the message id and the link's index: the redirect goes
-- to the URL recorded here, never to one taken from the request).

CREATE TABLE tracking_settings (
  workspace_id    text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  open_tracking   boolean NOT NULL DEFAULT true,
  click_tracking  boolean NOT NULL DEFAULT true,
  -- {source?, medium?, campaign?} or null (no UTM tags).
  utm             jsonb,
  updated_at      timestamptz NOT NULL,
  PRIMARY KEY (workspace_id)
);

CREATE TABLE tracking_links (
  workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  message_id    text COLLATE "C" NOT NULL,
  idx           int NOT NULL,
  url           text NOT NULL,
  PRIMARY KEY (workspace_id, message_id, idx),
  FOREIGN KEY (workspace_id, message_id) REFERENCES messages (workspace_id, id) ON DELETE CASCADE
);

-- Per-template metrics read messages by template (src/modules/tracking/repo.ts).
CREATE INDEX messages_template ON messages (workspace_id, template_id) WHERE template_id IS NOT NULL;
