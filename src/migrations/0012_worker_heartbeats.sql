-- One row per running worker process (not per workspace): the graphile-worker ids it runs and when it
-- was last seen. Live workers unlock the jobs of a process not seen for ~30 s (kill -9, lost host),
-- instead of graphile-worker's 4 hours. Times are the database's, so hosts' clocks do not matter.
CREATE TABLE worker_heartbeats (
  id          text COLLATE "C" PRIMARY KEY,
  worker_ids  text[] COLLATE "C" NOT NULL DEFAULT '{}',
  hostname    text COLLATE "C" NOT NULL,
  pid         integer NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  seen_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX worker_heartbeats_seen_at ON worker_heartbeats (seen_at);
