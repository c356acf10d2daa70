-- Batch sending (issue 4's benchmark): the messages table is the queue a send job takes from.
-- due_at: a queued message goes no earlier than this (its send_at, else when it was queued); a job
--   claims due queued messages of the workspace in one statement, not only its own. Rows queued
--   before this migration keep NULL (their send_at is only known to their own job, which sends them).
-- lease: while a message is `sending`, the job run that claimed it ('job:<graphile job id>'); only
--   that job (run again after a crash) may take it back, so a message is claimed by one job at a time.
ALTER TABLE messages ADD COLUMN due_at timestamptz;
ALTER TABLE messages ADD COLUMN lease text COLLATE "C";
CREATE INDEX messages_due ON messages (workspace_id, due_at) WHERE status = 'queued';
CREATE INDEX messages_lease ON messages (lease) WHERE status = 'sending';
