// Public surface of the tracking module.
export { createTrackingService, MAX_LINKS, type TrackingService } from './service.ts';
export { registerTrackingRoutes } from './routes.ts';
export { PAGE_HEADERS, VIEW_HEADERS, badLinkPage } from './pages.ts';
export { rewriteHtml, withUtm, resolveUtm } from './rewrite.ts';
export type { TemplateMetrics, TrackingSettings, Utm } from './types.ts';
