export { createWebhookService, type WebhookService, type WebhookDeps, type EndpointInput, PURGE_TASK, RETENTION_DAYS } from './service.ts';
export { registerWebhookRoutes } from './routes.ts';
export { DELIVER_TASK, type DeliverJob, type DeliveryOutcome } from './deliver.ts';
export { EVENT_TYPES, type EventType, type WebhookEndpoint, type WebhookPayload, type EndpointMessage } from './types.ts';
export { RETRY_DELAYS_MS, MAX_ATTEMPTS, nextAttemptAt } from './schedule.ts';
export { signPayload, webhookHeaders } from './signature.ts';
