export { BROWSER_PATHS, registerSegmentRoutes, type SegmentDeps } from './routes.ts';
export { correctTimestamp, parseIsoDate, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_EVENT_BYTES } from './normalize.ts';
export { SEGMENT_KINDS } from './normalize.ts';
