// The list of domain modules: their services, HTTP routes and worker tasks, in one place.
import type { TaskList } from 'graphile-worker';
import type { Deps, Services } from '../services.ts';
import type { TandemApp } from '../http/types.ts';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ModuleServices {}

export function createModuleServices(_deps: Deps): ModuleServices {
  return {};
}

export function registerModuleRoutes(_app: TandemApp, _services: Services): void {}

export function moduleTasks(_services: Services): TaskList {
  return {};
}

/** graphile-worker crontab lines for periodic jobs. */
export const moduleCrontab: string[] = [];
