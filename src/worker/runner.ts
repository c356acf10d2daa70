// graphile-worker runs every durable job (journey steps, sends, webhooks, periodic clean-ups).
import { EventEmitter } from 'node:events';
import { run, runMigrations, type Runner, type Logger as WorkerLogger, type WorkerEvents } from 'graphile-worker';
import { Logger as GraphileLogger } from 'graphile-worker';
import type { Services } from '../services.ts';
import { moduleCrontab, moduleListeners, moduleTasks } from '../modules/registry.ts';
import { createWorkerRecovery } from './recovery.ts';

function workerLogger(services: Services): WorkerLogger {
  const log = services.log.child({ role: 'worker' });
  return new GraphileLogger(() => (level, message, meta) => {
    const name = String(level);
    const lvl = name === 'error' ? 'error' : name === 'warning' ? 'warn' : name === 'info' ? 'info' : 'debug';
    log[lvl](meta ?? {}, message);
  });
}

/** Job wait (from due to start) and run time per task, from the runner's own events. */
function observeJobs(events: WorkerEvents, metrics: Services['metrics']): void {
  const started = new Map<string, number>();
  events.on('job:start', ({ job }) => {
    started.set(job.id, performance.now());
    // Wall time, not the injected clock: run_at is the database's own time.
    metrics.jobWait.observe({ task: job.task_identifier }, Math.max(0, Date.now() - job.run_at.getTime()) / 1000);
  });
  events.on('job:complete', ({ job, error }) => {
    const t0 = started.get(job.id);
    started.delete(job.id);
    if (t0 !== undefined) metrics.jobDuration.observe({ task: job.task_identifier, outcome: error ? 'error' : 'success' }, (performance.now() - t0) / 1000);
  });
}

export async function installWorkerSchema(services: Services): Promise<void> {
  await runMigrations({ pgPool: services.pool, logger: workerLogger(services) });
}

/** Runs the jobs, with a heartbeat that unlocks the jobs of dead worker processes (recovery.ts); stop() stops both. */
export async function startWorker(services: Services): Promise<Runner> {
  const recovery = createWorkerRecovery(services.db, services.log.child({ role: 'worker' }),
    { heartbeatMs: services.config.workerHeartbeatMs, deadAfterMs: services.config.workerDeadAfterMs });
  await recovery.start();
  // Passed to run() so that no worker:create is missed: each worker's id is in the heartbeat row.
  const events: WorkerEvents = new EventEmitter();
  events.on('worker:create', ({ worker }) => recovery.addWorker(worker.workerId));
  events.on('worker:stop', ({ worker }) => recovery.removeWorker(worker.workerId));
  observeJobs(events, services.metrics);
  let runner: Runner;
  try {
    runner = await run({
      pgPool: services.pool,
      concurrency: services.config.workerConcurrency,
      noHandleSignals: true,
      pollInterval: 1000,
      logger: workerLogger(services),
      taskList: moduleTasks(services),
      crontab: moduleCrontab.join('\n'),
      events,
    });
  } catch (err) {
    await recovery.stop();
    throw err;
  }
  // A runner that ends on its own (a fatal error) stops sending heartbeats too, so its jobs get unlocked
  // (the error itself stays unhandled, as without this line).
  void runner.promise.finally(() => recovery.stop());
  const listeners = moduleListeners(services);
  let stopping: Promise<void> | undefined;
  return {
    ...runner,
    stop() {
      stopping ??= (async () => {
        try {
          await Promise.all(listeners.map((l) => l.stop()));
          await runner.stop();
        } finally {
          await recovery.stop();
        }
      })();
      return stopping;
    },
  };
}
