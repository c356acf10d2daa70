export { createSalesforceService, PUSH_CONSENT_TASK, type SalesforceService, type SalesforceDeps, type ConsentChange, type PushResult } from './service.ts';
export { registerSalesforceRoutes } from './routes.ts';
export { soqlString, API_VERSION } from './client.ts';
