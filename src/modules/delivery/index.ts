// Public surface of the delivery module.
export { createDeliveryService, backoffMs, SEND_TASK, type DeliveryService, type ConsentGate, type MessageEventHook, type NewMessage, type EmailTransform } from './service.ts';
export { createTransactionalService, type TransactionalService } from './transactional.ts';
export { createDomainService, recordsOf, DKIM_HEADERS, type DomainService } from './domains.ts';
export { createMessageComposer, messageIdHeader, type MessageComposer, type UnsubscribeLinks, type ComposedEmail } from './compose-message.ts';
export { createSmtpSender, classifySmtpError, smtpConnection } from './smtp.ts';
export { registerDeliveryRoutes } from './routes.ts';
export type { MessageRow, MessageStatus, DomainRecords } from './types.ts';
export { createSenderService, senderInput, type SenderService, type SenderView } from './senders.ts';
export { createInboundService, type InboundService } from './inbound-service.ts';
export { registerSenderRoutes } from './sender-routes.ts';
export * as providers from './providers/index.ts';
export * as inbound from './inbound/index.ts';
export type { ProviderDeps } from './providers/index.ts';
