// Public surface of the tracking module.
export { createTrackingService, MAX_LINKS, type TrackingService } from './service.ts';
export { registerTrackingRoutes } from './routes.ts';
export { rewriteHtml, withUtm, resolveUtm } from './rewrite.ts';
export type { TemplateMetrics, TrackingSettings, Utm } from './types.ts';
