// Resources as code: content resources and segments <-> YAML files, for `tandem pull` and `tandem apply`.
export { apply, type ApplyOptions, type ApplyResult } from './apply.ts';
export { createContentClient, failureCause, httpTransport, jsonBody, type ContentClient, type Transport, type TransportRequest, type TransportResponse } from './client.ts';
export { readAsCodeDir, type AsCodeDir, type LocalResource } from './files.ts';
export { APPLY_ORDER, problemLine, resourceFile, toYaml, type AsCodeKind, type Problem, type ResourceDoc, type Status } from './format.ts';
export { countActions, isNoop, makePlan, type Action, type PlanEntry } from './plan.ts';
export { pull, type PullAction, type PullEntry, type PullOptions } from './pull.ts';
export { segmentFile, toSegmentYaml, type LocalSegment, type SegmentDoc } from './segments.ts';
