// Sender settings as stored per workspace, validated with these schemas, and the factories that
// turn them into providers. The stored settings never carry a base URL: the endpoints are the
// providers' real ones, so a workspace cannot aim its API key (or Tandem) at another host. Tests
// and operators override the endpoint through the factory's `deps` instead.
import { z } from 'zod';
import { secret as secretField } from '../../../secrets.ts';
import { createMailgunProvider } from './mailgun.ts';
import { createPostmarkProvider } from './postmark.ts';
import { createResendProvider } from './resend.ts';
import { createSendGridProvider } from './sendgrid.ts';
import { createSesProvider } from './ses.ts';
import { createTwilioProvider } from './twilio.ts';
import type { EmailProvider, HttpOptions, SmsProvider } from './types.ts';

// Declared secret: stored as given, masked in every answer (src/secrets.ts).
const secret = secretField(z.string().trim().min(1).max(4096));
const timeoutMs = z.number().int().min(1000).max(120_000).optional();

const sesConfig = z.strictObject({
  kind: z.literal('ses'),
  // Becomes part of the host name email.{region}.amazonaws.com, hence the strict shape.
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'an AWS region such as eu-west-1'),
  accessKeyId: z.string().regex(/^[A-Z0-9]{16,128}$/, 'an AWS access key id'),
  secretAccessKey: secret,
  sessionToken: secret.optional(),
  configurationSetName: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
  timeoutMs,
});

const postmarkConfig = z.strictObject({
  kind: z.literal('postmark'),
  serverToken: secret,
  messageStream: z.string().regex(/^[a-z0-9_-]{1,30}$/, 'a Postmark message stream id such as "outbound"').optional(),
  timeoutMs,
});

const sendgridConfig = z.strictObject({
  kind: z.literal('sendgrid'),
  apiKey: secret,
  timeoutMs,
});

const mailgunConfig = z.strictObject({
  kind: z.literal('mailgun'),
  apiKey: secret,
  domain: z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'a domain name such as mg.example.com'),
  region: z.enum(['us', 'eu']).default('us'),
  timeoutMs,
});

const resendConfig = z.strictObject({
  kind: z.literal('resend'),
  apiKey: secret,
  timeoutMs,
});

export const emailProviderConfigSchema = z.discriminatedUnion('kind', [
  sesConfig, postmarkConfig, sendgridConfig, mailgunConfig, resendConfig,
]);
export type EmailProviderConfig = z.infer<typeof emailProviderConfigSchema>;

const twilioConfig = z.strictObject({
  kind: z.literal('twilio'),
  accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'a Twilio Account SID (AC followed by 32 hex digits)'),
  authToken: secret,
  messagingServiceSid: z.string().regex(/^MG[0-9a-fA-F]{32}$/, 'a Messaging Service SID (MG followed by 32 hex digits)').optional(),
  timeoutMs,
});

export const smsProviderConfigSchema = z.discriminatedUnion('kind', [twilioConfig]);
export type SmsProviderConfig = z.infer<typeof smsProviderConfigSchema>;

/** What the caller injects: a fetch (tests), an endpoint override (tests, operators), a default timeout. */
export type ProviderDeps = HttpOptions;

function http(config: { timeoutMs?: number | undefined }, deps: ProviderDeps): HttpOptions {
  const timeoutMs = config.timeoutMs ?? deps.timeoutMs;
  return {
    ...(deps.baseUrl ? { baseUrl: deps.baseUrl } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
  };
}

/** Builds the adapter for a validated config (parse it with emailProviderConfigSchema first). */
export function createEmailProvider(config: EmailProviderConfig, deps: ProviderDeps = {}): EmailProvider {
  const opts = http(config, deps);
  switch (config.kind) {
    case 'ses':
      return createSesProvider({
        ...opts, region: config.region, accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey,
        ...(config.sessionToken ? { sessionToken: config.sessionToken } : {}),
        ...(config.configurationSetName ? { configurationSetName: config.configurationSetName } : {}),
      });
    case 'postmark':
      return createPostmarkProvider({ ...opts, serverToken: config.serverToken, ...(config.messageStream ? { messageStream: config.messageStream } : {}) });
    case 'sendgrid':
      return createSendGridProvider({ ...opts, apiKey: config.apiKey });
    case 'mailgun':
      return createMailgunProvider({ ...opts, apiKey: config.apiKey, domain: config.domain, region: config.region });
    case 'resend':
      return createResendProvider({ ...opts, apiKey: config.apiKey });
  }
}

export function createSmsProvider(config: SmsProviderConfig, deps: ProviderDeps = {}): SmsProvider {
  const opts = http(config, deps);
  switch (config.kind) {
    case 'twilio':
      return createTwilioProvider({
        ...opts, accountSid: config.accountSid, authToken: config.authToken,
        ...(config.messagingServiceSid ? { messagingServiceSid: config.messagingServiceSid } : {}),
      });
  }
}
