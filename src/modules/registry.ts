// The list of domain modules: their services, HTTP routes and worker tasks, in one place.
// Add a module here (service, routes, tasks); keep each entry one line.
import type { TaskList } from 'graphile-worker';
import type { Deps, Services } from '../services.ts';
import type { TandemApp } from '../http/types.ts';
import { createEventsService, type EventsService } from './events/index.ts';
import { createEventStream, registerEventStreamRoutes, type EventStream } from './events/index.ts';
import { createCatalogService, registerCatalogRoutes, type CatalogService } from './catalog/index.ts';
import { createIngestService, type IngestService } from './ingest/index.ts';
import { createPeopleService, type PeopleService } from './people/index.ts';
import { createPeopleQueryService, registerPeopleRoutes, type PeopleQueryService } from './people/index.ts';
import { registerSegmentRoutes } from './segment/index.ts';
import { registerCustomerioRoutes } from './customerio/index.ts';
import { createContentService, registerContentResourceRoutes, type ContentService } from './content/index.ts';

export interface ModuleServices {
  people: PeopleService;
  peopleQuery: PeopleQueryService;
  events: EventsService;
  ingest: IngestService;
  catalog: CatalogService;
  eventStream: EventStream;
  content: ContentService;
}

export function createModuleServices(deps: Deps): ModuleServices {
  const people = createPeopleService({ db: deps.db, clock: deps.clock });
  const events = createEventsService({ db: deps.db, clock: deps.clock, dedupeDays: deps.config.dedupeDays });
  const ingest = createIngestService({ db: deps.db, clock: deps.clock, log: deps.log, people, events, observers: [] });
  const peopleQuery = createPeopleQueryService({ db: deps.db, clock: deps.clock });
  const catalog = createCatalogService({ db: deps.db, clock: deps.clock, log: deps.log });
  ingest.observe(catalog);
  const eventStream = createEventStream({ db: deps.db, pool: deps.pool, log: deps.log });
  const content = createContentService({ db: deps.db, clock: deps.clock });
  return { people, events, ingest, peopleQuery, catalog, eventStream, content };
}

export function registerModuleRoutes(app: TandemApp, services: Services): void {
  registerSegmentRoutes(app, services);
  registerCustomerioRoutes(app, services);
  registerPeopleRoutes(app, { query: services.peopleQuery, people: services.people });
  registerCatalogRoutes(app, services.catalog);
  registerEventStreamRoutes(app, services.eventStream);
  registerContentResourceRoutes(app, services.content);
}

export function moduleTasks(services: Services): TaskList {
  return { ...services.events.tasks() };
}

/** graphile-worker crontab lines for periodic jobs. */
export const moduleCrontab: string[] = [
  '17 * * * * events:purge_dedupe',
];
