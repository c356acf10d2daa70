// The list of domain modules: their services, HTTP routes and worker tasks, in one place.
// Add a module here (service, routes, tasks); keep each entry one line.
import type { TaskList } from 'graphile-worker';
import type { Deps, Services } from '../services.ts';
import type { TandemApp } from '../http/types.ts';
import { createEventsService, type EventsService } from './events/index.ts';
import { createIngestService, type IngestService } from './ingest/index.ts';
import { createPeopleService, type PeopleService } from './people/index.ts';

export interface ModuleServices {
  people: PeopleService;
  events: EventsService;
  ingest: IngestService;
}

export function createModuleServices(deps: Deps): ModuleServices {
  const people = createPeopleService({ db: deps.db, clock: deps.clock });
  const events = createEventsService({ db: deps.db, clock: deps.clock, dedupeDays: deps.config.dedupeDays });
  const ingest = createIngestService({ db: deps.db, clock: deps.clock, log: deps.log, people, events, observers: [] });
  return { people, events, ingest };
}

export function registerModuleRoutes(_app: TandemApp, _services: Services): void {}

export function moduleTasks(services: Services): TaskList {
  return { ...services.events.tasks() };
}

/** graphile-worker crontab lines for periodic jobs. */
export const moduleCrontab: string[] = [
  '17 * * * * events.purge_dedupe',
];
