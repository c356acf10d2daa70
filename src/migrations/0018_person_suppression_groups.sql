-- Suppression visible and reversible (issue 11): the identifiers one delete-and-suppress marked (user
-- ids, anonymous ids, the email) share `deletion_id`, so lifting the suppression by any one of them
-- lifts them all, the email included. Rows from before this migration have none and are lifted one by one.
ALTER TABLE person_suppressions ADD COLUMN deletion_id text COLLATE "C";
CREATE INDEX person_suppressions_deletion ON person_suppressions (workspace_id, deletion_id) WHERE deletion_id IS NOT NULL;
-- The suppression list's view of deleted people's emails, newest first.
CREATE INDEX person_suppressions_recent ON person_suppressions (workspace_id, created_at DESC) WHERE kind = 'email';
