// Inbound bounce, complaint and engagement notifications: verification and parsing only (no database,
// no routes). Each parser takes the raw request and the sender's secrets and returns normalized events,
// or throws InboundError ('signature' | 'stale' | 'payload') and nothing else.
export { InboundError, TANDEM_MESSAGE_ID_HEADER, TANDEM_MESSAGE_ID_KEY } from './types.ts';
export type { InboundEvent, InboundErrorCode, InboundKind, InboundOptions, InboundParser, InboundProvider, InboundRequest } from './types.ts';
export { parseSes, type SesResult, type SesSecrets } from './ses.ts';
export { parsePostmark, type PostmarkSecrets } from './postmark.ts';
export { parseSendGrid, type SendGridSecrets } from './sendgrid.ts';
export { parseMailgun, type MailgunSecrets } from './mailgun.ts';
export { parseResend, type ResendSecrets } from './resend.ts';
export { parseDsn } from './dsn.ts';
export { messageIdFromHeader, tandemMessageIdHeader } from './message-id.ts';
export { adapter, INBOUND_ADAPTERS, INBOUND_PROVIDERS, inboundSecrets, checkBearer, type InboundAdapter, type InboundResult } from './adapters.ts';
