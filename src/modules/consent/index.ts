export { createConsentService, type ConsentService, type ConsentDeps, type PersonContact } from './service.ts';
export { registerConsentRoutes } from './routes.ts';
export { normaliseEmail, normalisePhone } from './address.ts';
export type {
  CheckResult, CheckWhat, CheckWho, ConsentChange, ConsentChanges, ConsentChannel, ConsentContext, ConsentHook,
  ConsentLinks, ConsentSource, ConsentState, LedgerEntry, Suppression, SuppressionReason, Topic, TopicState,
} from './types.ts';
export type { BulkTopicConsent } from './bulk.ts';
export { CHANNELS as CONSENT_CHANNELS } from './types.ts';
