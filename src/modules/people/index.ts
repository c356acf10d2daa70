export { createPeopleService, isPersonId, type PeopleService, type MergeHook } from './service.ts';
export type { BatchResolver, Resolution } from './identity.ts';
export type { PersonRef, Device } from './types.ts';
export { createPeopleQueryService, type PeopleQueryService } from './query-service.ts';
export { registerPeopleRoutes } from './routes.ts';
export { bulkUpsertPeople, bulkRowKeys, peopleContacts, BulkIdentityConflict, type BulkPersonRow, type BulkOutcome, type BulkUpsertResult } from './bulk.ts';
