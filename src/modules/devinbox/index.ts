export { createDevInboxService, type DevInboxService, type DevInboxPage } from './service.ts';
export { registerDevInboxRoutes } from './routes.ts';
export type { DevInboxMessage } from './types.ts';
