export { createWorkspaceService, type WorkspaceService, type CreatedWorkspace, type AuthenticatedKey, type CreatedHook } from './service.ts';
export { registerWorkspaceRoutes } from './routes.ts';
export type { KeyKind } from './keys.ts';
export type { KeyRow, WorkspaceRow, WorkspaceSettings } from './repo.ts';
