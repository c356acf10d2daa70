// Resend: POST /emails (https://resend.com/docs/api-reference/emails/send-email), Bearer key.
// Tandem's message id is also sent as the Idempotency-Key, so a retry after a lost answer returns
// the first send instead of sending again (Resend keeps keys for 24 hours).
import {
  checkedHeaders, failure, formatAddress, isSuccess, joinUrl, jsonObject, missingId, oneLine, post, str, kindOf } from './http.ts';
import type { EmailProvider, HttpOptions, OutgoingEmail, ProviderErrorKind, SendResult } from './types.ts';

export const RESEND_BASE_URL = 'https://api.resend.com';

export interface ResendOptions extends HttpOptions { apiKey: string }

/** Resend's error `name`s whose kind differs from what the HTTP status alone says. */
const ERROR_NAME_KINDS: Record<string, ProviderErrorKind> = {
  concurrent_idempotent_requests: 'retryable', // 409: the same key is still being processed
  invalid_idempotent_request: 'permanent', // 409: same key, different payload
  daily_quota_exceeded: 'rate_limited',
  rate_limit_exceeded: 'rate_limited',
};

/** Tag names and values allow ASCII letters, digits, '_' and '-' (max 256). */
function tagValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256) || '_';
}

export function createResendProvider(opts: ResendOptions): EmailProvider {
  const url = joinUrl(opts.baseUrl ?? RESEND_BASE_URL, '/emails');
  return {
    name: 'resend',
    async send(m: OutgoingEmail): Promise<SendResult> {
      const body = {
        from: formatAddress(m.from),
        to: [formatAddress(m.to)],
        subject: m.subject,
        html: m.html,
        text: m.text,
        ...(m.replyTo ? { reply_to: oneLine(m.replyTo) } : {}),
        headers: Object.fromEntries(checkedHeaders('resend', m.headers)),
        tags: [{ name: 'tandem_message_id', value: tagValue(m.messageId) }],
      };
      const answer = await post('resend', url, {
        headers: {
          authorization: `Bearer ${opts.apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': oneLine(m.messageId).slice(0, 256),
        },
        body: JSON.stringify(body),
      }, opts);
      const json = jsonObject(answer.text);
      if (isSuccess(answer.status)) {
        const id = str(json?.id);
        if (!id) throw missingId('resend', answer);
        return { providerMessageId: id };
      }
      const name = str(json?.name);
      const kind = answer.status < 500 && name ? kindOf(ERROR_NAME_KINDS, name) : undefined;
      throw failure('resend', answer, name ? `${name}: ${str(json?.message) ?? ''}` : str(json?.message), kind);
    },
  };
}
