export { createLinkCheckService, CHECK_LINKS_TASK, CHECK_ALL_LINKS_TASK, MAX_URLS, type LinkCheckDeps, type LinkCheckService } from './service.ts';
export { registerLinkCheckRoutes } from './routes.ts';
export { extractUrls, type ExtractedUrl } from './extract.ts';
export type { LinkResult, StoredCheck } from './repo.ts';
export type { LinkStatus } from './check.ts';
