export { createIngestService, type IngestService } from './service.ts';
export type { IncomingEvent, IngestObserver, IngestResult, IngestSource, PeopleTouched, StoredEvent, Json, EventKind } from './types.ts';
export { cleanJson, cleanString, fieldOf, MAX_JSON_DEPTH, type JsonPath } from './clean.ts';
