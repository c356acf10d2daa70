export { createEventsService, type EventsService, type EventRow } from './service.ts';
export { createEventStream, registerEventStreamRoutes, EVENTS_CHANNEL, type EventStream, type LiveEvent } from './stream-routes.ts';
