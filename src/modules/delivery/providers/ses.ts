// Amazon SES API v2 SendEmail (POST /v2/email/outbound-emails), SigV4-signed with aws4.
// The message goes as Content.Raw, a MIME message built by nodemailer's MailComposer, so every
// custom header (List-Unsubscribe, List-Unsubscribe-Post, Message-ID) reaches the recipient as is.
import aws4 from 'aws4';
import MailComposer from 'nodemailer/lib/mail-composer';
import {
  checkedHeaders, failure, isSuccess, joinUrl, jsonObject, missingId, post, str, kindOf } from './http.ts';
import { ProviderError, type EmailProvider, type HttpOptions, type OutgoingEmail, type ProviderErrorKind, type SendResult } from './types.ts';

export interface SesOptions extends HttpOptions {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  configurationSetName?: string;
}

export function sesBaseUrl(region: string): string {
  return `https://email.${region}.amazonaws.com`;
}

/** Header carrying Tandem's message id inside the MIME message, besides the EmailTags entry. */
export const SES_MESSAGE_ID_HEADER = 'X-Tandem-Message-Id';
const PATH = '/v2/email/outbound-emails';

/**
 * SES v2 error types (x-amzn-ErrorType). Throttling slows down; refusals that hit every message of
 * this sender (suspended or paused account, unverified MAIL FROM, bad credentials, a missing
 * configuration set) are 'auth' so the caller stops using the sender instead of failing message after message.
 */
const ERROR_TYPE_KINDS: Record<string, ProviderErrorKind> = {
  TooManyRequestsException: 'rate_limited',
  ThrottlingException: 'rate_limited',
  LimitExceededException: 'rate_limited',
  AccountSuspendedException: 'auth',
  SendingPausedException: 'auth',
  MailFromDomainNotVerifiedException: 'auth',
  NotFoundException: 'auth',
  UnrecognizedClientException: 'auth',
  InvalidSignatureException: 'auth',
  SignatureDoesNotMatch: 'auth',
  IncompleteSignatureException: 'auth',
  MissingAuthenticationTokenException: 'auth',
  ExpiredTokenException: 'auth',
  AccessDeniedException: 'auth',
  MessageRejected: 'permanent',
  BadRequestException: 'permanent',
  InternalServiceErrorException: 'retryable',
};

/** SES tag values allow ASCII letters, digits, '_', '-', '.', '@' (max 256); anything else becomes '_'. */
function tagValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_.@-]/g, '_').slice(0, 256) || '_';
}

export async function buildRawMessage(m: OutgoingEmail, headers: [string, string][]): Promise<Buffer> {
  const composer = new MailComposer({
    from: { name: m.from.name ?? '', address: m.from.address },
    to: { name: m.to.name ?? '', address: m.to.address },
    ...(m.replyTo ? { replyTo: m.replyTo } : {}),
    subject: m.subject,
    html: m.html,
    text: m.text,
    headers: [...headers.map(([key, value]) => ({ key, value })), { key: SES_MESSAGE_ID_HEADER, value: m.messageId }],
    // Content is always given inline; never let a string be read as a file or URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return composer.compile().build();
}

export function createSesProvider(opts: SesOptions): EmailProvider {
  const base = new URL(opts.baseUrl ?? sesBaseUrl(opts.region));
  const url = joinUrl(base.origin + base.pathname, PATH);
  const path = new URL(url).pathname;
  const credentials = {
    accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey,
    ...(opts.sessionToken ? { sessionToken: opts.sessionToken } : {}),
  };
  return {
    name: 'ses',
    async send(m: OutgoingEmail): Promise<SendResult> {
      const headers = checkedHeaders('ses', m.headers);
      let raw: Buffer;
      try {
        raw = await buildRawMessage(m, headers);
      } catch (err) {
        throw new ProviderError(`ses: could not build the MIME message: ${err instanceof Error ? err.message : String(err)}`, 'permanent');
      }
      const body = JSON.stringify({
        FromEmailAddress: m.from.address,
        Destination: { ToAddresses: [m.to.address] },
        ...(m.replyTo ? { ReplyToAddresses: [m.replyTo] } : {}),
        Content: { Raw: { Data: raw.toString('base64') } },
        EmailTags: [{ Name: 'tandem_message_id', Value: tagValue(m.messageId) }],
        ...(opts.configurationSetName ? { ConfigurationSetName: opts.configurationSetName } : {}),
      });
      const signed = aws4.sign({
        host: base.host, path, method: 'POST', service: 'ses', region: opts.region,
        headers: { 'content-type': 'application/json' }, body,
      }, credentials);
      const signedHeaders: Record<string, string> = {};
      for (const [name, value] of Object.entries(signed.headers ?? {})) {
        // fetch sets Host and Content-Length itself, from the same values that were signed.
        if (value !== undefined && !/^(host|content-length)$/i.test(name)) signedHeaders[name.toLowerCase()] = String(value);
      }
      const answer = await post('ses', url, { headers: signedHeaders, body }, opts);
      const json = jsonObject(answer.text);
      if (isSuccess(answer.status)) {
        const id = str(json?.MessageId);
        if (!id) throw missingId('ses', answer);
        return { providerMessageId: id };
      }
      // restJson errors: the type in x-amzn-ErrorType ("Type:namespace..."), or __type/code in the body.
      const rawType = answer.headers.get('x-amzn-errortype') ?? str(json?.__type) ?? str(json?.code) ?? '';
      const type = rawType.split(':')[0]?.split('#').pop() ?? '';
      const message = str(json?.message) ?? str(json?.Message);
      const kind = answer.status >= 500 ? 'retryable' : kindOf(ERROR_TYPE_KINDS, type);
      throw failure('ses', answer, type ? `${type}: ${message ?? ''}` : message, kind);
    },
  };
}
