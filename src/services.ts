// Builds every module's service from the shared dependencies. main.ts and the test harness use it.
import type pg from 'pg';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Db } from './db/pool.ts';
import type { Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createQueueDepthReader } from './worker/queue-depth.ts';
import type { ProviderDeps } from './modules/delivery/index.ts';
import { createWorkspaceService, type WorkspaceService } from './modules/workspaces/index.ts';
import { createModuleServices, type ModuleServices } from './modules/registry.ts';
import { connectModules } from './modules/wiring.ts';

export interface Deps {
  config: Config;
  db: Db;
  pool: pg.Pool;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Provider HTTP overrides (an endpoint, a fetch) for every provider sender: tests point them at a local server. */
  providerDeps?: ProviderDeps | undefined;
}

export interface Services extends ModuleServices {
  config: Config;
  db: Db;
  pool: pg.Pool;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  workspaces: WorkspaceService;
}

export function createServices(base: Omit<Deps, 'metrics'> & { metrics?: Metrics }): Services {
  const deps: Deps = { ...base, metrics: base.metrics ?? createMetrics({ queueDepth: createQueueDepthReader(base.db) }) };
  const workspaces = createWorkspaceService({ db: deps.db, clock: deps.clock });
  const modules = createModuleServices(deps, { workspaces });
  connectModules(modules);
  return { ...deps, workspaces, ...modules };
}
