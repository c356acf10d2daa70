export { createImportService, importPeopleCsv, type ImportService, type ImportDeps, type CreateImportInput } from './service.ts';
export { registerImportRoutes } from './routes.ts';
export type { ImportListSink, ImportView, ImportOptions, ImportFailure, RowError, RowErrorCode, ImportStatus } from './types.ts';
