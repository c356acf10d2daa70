// graphile-worker runs every durable job (journey steps, sends, webhooks, periodic clean-ups).
import { run, runMigrations, type Runner, type Logger as WorkerLogger } from 'graphile-worker';
import { Logger as GraphileLogger } from 'graphile-worker';
import type { Services } from '../services.ts';
import { moduleCrontab, moduleTasks } from '../modules/registry.ts';

function workerLogger(services: Services): WorkerLogger {
  const log = services.log.child({ role: 'worker' });
  return new GraphileLogger(() => (level, message, meta) => {
    const name = String(level);
    const lvl = name === 'error' ? 'error' : name === 'warning' ? 'warn' : name === 'info' ? 'info' : 'debug';
    log[lvl](meta ?? {}, message);
  });
}

export async function installWorkerSchema(services: Services): Promise<void> {
  await runMigrations({ pgPool: services.pool, logger: workerLogger(services) });
}

export async function startWorker(services: Services): Promise<Runner> {
  return run({
    pgPool: services.pool,
    concurrency: services.config.workerConcurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: workerLogger(services),
    taskList: moduleTasks(services),
    crontab: moduleCrontab.join('\n'),
  });
}
