// HTTP email providers and Twilio SMS: self-contained adapters (no database) behind one interface.
export {
  ProviderError,
  type EmailProvider, type HttpOptions, type OutgoingEmail, type OutgoingSms, type ProviderErrorKind,
  type SendResult, type SmsProvider,
} from './types.ts';
export { parseRetryAfter, kindForStatus, DEFAULT_TIMEOUT_MS } from './http.ts';
export {
  createEmailProvider, createSmsProvider, emailProviderConfigSchema, smsProviderConfigSchema,
  type EmailProviderConfig, type ProviderDeps, type SmsProviderConfig,
} from './config.ts';
export { createSesProvider, sesBaseUrl, SES_MESSAGE_ID_HEADER, type SesOptions } from './ses.ts';
export { createPostmarkProvider, POSTMARK_BASE_URL, type PostmarkOptions } from './postmark.ts';
export { createSendGridProvider, SENDGRID_BASE_URL, type SendGridOptions } from './sendgrid.ts';
export { createMailgunProvider, MAILGUN_BASE_URLS, type MailgunOptions } from './mailgun.ts';
export { createResendProvider, RESEND_BASE_URL, type ResendOptions } from './resend.ts';
export { createTwilioProvider, TWILIO_BASE_URL, type TwilioOptions } from './twilio.ts';
