export { createSegmentsService, parseDefinition, type SegmentsService, type SegmentsDeps, type SegmentInput } from './service.ts';
export { registerSegmentsRoutes } from './routes.ts';
export { condition, leaves, isTimeBased, type Condition, type Leaf, type ValueTest } from './definition.ts';
export { csvCell } from './export.ts';
export type { Segment, SegmentDeps } from './types.ts';
export type { SegmentChangeHook } from './membership.ts';
export type { ExplainNode } from './explain.ts';
export type { SegmentWarning } from './warnings.ts';
