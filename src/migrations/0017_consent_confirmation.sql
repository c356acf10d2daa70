-- Double opt-in (issue 11): a double opt-in topic becomes `subscribed` only through its confirmation
-- link. confirmation_sent_at: when the last confirmation message for this pending state was queued, so
-- that repeated requests send at most one per period. The ledger records the confirming click with
-- its own source, `confirmation`.
ALTER TABLE topic_subscriptions ADD COLUMN confirmation_sent_at timestamptz;
ALTER TABLE consent_ledger DROP CONSTRAINT consent_ledger_source_check;
ALTER TABLE consent_ledger ADD CONSTRAINT consent_ledger_source_check
  CHECK (source IN ('one_click', 'preference_centre', 'api', 'import', 'form', 'bounce', 'complaint', 'admin', 'confirmation'));
