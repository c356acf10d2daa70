-- GET /api/messages lists newest first on (created_at, id) with a keyset cursor (ids are random, so
-- ordering by id alone was no order at all). This index serves the unfiltered list; messages_person
-- serves the list of one person's messages.
CREATE INDEX messages_newest ON messages (workspace_id, created_at DESC, id DESC);
