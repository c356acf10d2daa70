// How the drain hears of dirty people without slowing ingest down. A transaction that marks people
// dirty sends NOTIFY tandem_segments_dirty (delivered at its commit, so a listener never runs ahead
// of the rows); each worker process LISTENs on one connection and queues the `segments:drain` job,
// coalescing bursts into one add_job at a time. Queuing the job inside every ingest transaction
// instead made concurrent batches wait on the job row's lock (job_key upsert): ~3,000 events/s and
// tens of seconds of latency at 5,000/s (docs/scaling.md, "Segments").
// A notification sent while no worker listens is lost, so the listener also queues a drain when it
// (re)connects, and the tick queues one whenever dirty rows are waiting.
import type pg from 'pg';
import type { Db } from '../../db/pool.ts';
import type { Logger } from '../../logger.ts';
import { enqueueJob } from '../../worker/jobs.ts';

export const DIRTY_CHANNEL = 'tandem_segments_dirty';
const RECONNECT_MS = 1_000;

export function queueDrain(db: Db, afterMs = 0): Promise<void> {
  // One pending drain at a time (job_key); a running drain picks up what arrives meanwhile. A later
  // drain has its own key, so that it never postpones the immediate one.
  if (afterMs > 0) {
    return enqueueJob(db, 'segments:drain', {}, { jobKey: 'segments:drain:later', runAt: new Date(Date.now() + afterMs), maxAttempts: 25 });
  }
  return enqueueJob(db, 'segments:drain', {}, { jobKey: 'segments:drain', maxAttempts: 25 });
}

/** Listens for dirty people and queues the drain; stop() closes the connection. */
export function startDrainWakeup(pool: pg.Pool, db: Db, log: Logger): { stop(): Promise<void> } {
  /** The listening connection; `release` hands it back to the pool once, whatever happens. */
  let listener: { client: pg.PoolClient; release(err?: Error): void } | undefined;
  let stopped = false;
  let queuing = false;
  let again = false;
  let retry: NodeJS.Timeout | undefined;

  async function wake(): Promise<void> {
    if (queuing) {
      again = true;
      return;
    }
    queuing = true;
    try {
      do {
        again = false;
        await queueDrain(db);
      } while (again && !stopped);
    } catch (err) {
      log.warn({ err }, 'could not queue the segments drain; the next notification or tick will');
    } finally {
      queuing = false;
    }
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    try {
      const client = await pool.connect();
      let released = false;
      const onNotification = () => void wake();
      const release = (err?: Error) => {
        if (released) return;
        released = true;
        // Back in the pool, the client's errors are the pool's: an idle client that dies (a dropped
        // database, a restart) must not reach this listener and be released a second time.
        client.off('notification', onNotification);
        client.off('error', onError);
        client.release(err);
        if (listener?.client === client) listener = undefined;
      };
      function onError(err: Error): void {
        if (released) return;
        log.warn({ err }, 'segments listener connection lost; reconnecting');
        release(err);
        schedule();
      }
      client.on('notification', onNotification);
      client.on('error', onError);
      listener = { client, release };
      await client.query(`LISTEN ${DIRTY_CHANNEL}`);
      if (stopped) {
        await close();
        return;
      }
      await wake(); // rows marked while nobody listened
    } catch (err) {
      log.warn({ err }, 'segments listener could not connect; retrying');
      listener?.release(err as Error);
      schedule();
    }
  }

  function schedule(): void {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, RECONNECT_MS);
  }

  async function close(): Promise<void> {
    const l = listener;
    if (!l) return;
    try {
      await l.client.query(`UNLISTEN ${DIRTY_CHANNEL}`);
      l.release();
    } catch (err) {
      l.release(err as Error);
    }
  }

  void connect();
  return {
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      await close();
    },
  };
}
