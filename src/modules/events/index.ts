export { createEventsService, type EventsService, type EventRow } from './service.ts';
