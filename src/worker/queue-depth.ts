// Queue depth for /metrics: graphile-worker's jobs counted by task and state with one grouped query,
// run at scrape time and kept a few seconds, so frequent scrapes from several Prometheus servers
// cost one query per interval. A database without the worker schema yet (an API started before any
// worker) answers no series rather than a failed scrape.
import { sql } from 'kysely';
import type { Queryable } from '../db/pool.ts';
import type { QueueDepthReader } from '../metrics.ts';
import { ttlCache } from '../db/ttl-cache.ts';

type State = 'waiting' | 'scheduled' | 'running';

export function createQueueDepthReader(db: Queryable, ttlMs = 5_000): QueueDepthReader {
  const cache = ttlCache(ttlMs, async (_key: 'all') => {
    const res = await sql<{ task: string; state: State; count: string }>`
      SELECT t.identifier AS task,
             CASE WHEN j.locked_at IS NOT NULL THEN 'running' WHEN j.run_at > now() THEN 'scheduled' ELSE 'waiting' END AS state,
             count(*) AS count
      FROM graphile_worker._private_jobs j
      JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE j.attempts < j.max_attempts OR j.locked_at IS NOT NULL
      GROUP BY 1, 2`.execute(db);
    return res.rows.map((r) => ({ task: r.task, state: r.state, count: Number(r.count) }));
  });
  return () => cache.get('all').catch(() => []);
}
