// Public surface of the delivery module.
export { createDeliveryService, backoffMs, SEND_TASK, type DeliveryService, type ConsentGate, type MessageEventHook, type NewMessage } from './service.ts';
export { createTransactionalService, type TransactionalService } from './transactional.ts';
export { createDomainService, recordsOf, DKIM_HEADERS, type DomainService } from './domains.ts';
export { createMessageComposer, messageIdHeader, type MessageComposer, type UnsubscribeLinks } from './compose-message.ts';
export { createSmtpSender, classifySmtpError, smtpConnection } from './smtp.ts';
export { registerDeliveryRoutes } from './routes.ts';
export type { MessageRow, MessageStatus, DomainRecords } from './types.ts';
