-- Secrets of this Tandem installation (not of a workspace), made once and shared by every process:
-- the key of signed links when TANDEM_SIGNING_SECRET is not set.
CREATE TABLE instance_secrets (
  name        text COLLATE "C" PRIMARY KEY,
  value       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
