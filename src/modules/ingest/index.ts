export { createIngestService, type IngestService } from './service.ts';
export type { IncomingEvent, IngestObserver, IngestResult, IngestSource, StoredEvent, Json, EventKind } from './types.ts';
