// Postmark: POST /email (https://postmarkapp.com/developer/user-guide/send-email-with-api).
import {
  checkedHeaders, failure, formatAddress, isSuccess, joinUrl, jsonObject, missingId, num, post, str, kindOf } from './http.ts';
import type { EmailProvider, HttpOptions, OutgoingEmail, ProviderErrorKind, SendResult } from './types.ts';

export const POSTMARK_BASE_URL = 'https://api.postmarkapp.com';

export interface PostmarkOptions extends HttpOptions {
  serverToken: string;
  /** Postmark's message stream, e.g. "outbound" (transactional) or a broadcast stream. Default: the server's default. */
  messageStream?: string;
}

/**
 * Postmark answers a refused message with HTTP 422 and an API ErrorCode
 * (https://postmarkapp.com/developer/api/overview#error-codes). Most are about this message
 * (300 invalid request, 406 inactive recipient) and are permanent; these are not.
 */
const ERROR_CODE_KINDS: Record<number, ProviderErrorKind> = {
  10: 'auth', // bad or missing API token
  100: 'retryable', // maintenance
  400: 'auth', // sender signature not found: every message from this sender fails
  401: 'auth', // sender signature not confirmed
  405: 'auth', // not allowed to send (e.g. out of credits)
  412: 'auth', // account is pending
  413: 'auth', // account may not send
  429: 'rate_limited',
};

export function createPostmarkProvider(opts: PostmarkOptions): EmailProvider {
  const url = joinUrl(opts.baseUrl ?? POSTMARK_BASE_URL, '/email');
  return {
    name: 'postmark',
    async send(m: OutgoingEmail): Promise<SendResult> {
      const body = {
        From: formatAddress(m.from),
        To: formatAddress(m.to),
        Subject: m.subject,
        HtmlBody: m.html,
        TextBody: m.text,
        ...(m.replyTo ? { ReplyTo: m.replyTo } : {}),
        Headers: checkedHeaders('postmark', m.headers).map(([Name, Value]) => ({ Name, Value })),
        Metadata: { tandem_message_id: m.messageId },
        ...(opts.messageStream ? { MessageStream: opts.messageStream } : {}),
      };
      const answer = await post('postmark', url, {
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          'x-postmark-server-token': opts.serverToken,
        },
        body: JSON.stringify(body),
      }, opts);
      const json = jsonObject(answer.text);
      const errorCode = num(json?.ErrorCode);
      const message = str(json?.Message);
      if (isSuccess(answer.status) && (errorCode === undefined || errorCode === 0)) {
        const id = str(json?.MessageID);
        if (!id) throw missingId('postmark', answer);
        return { providerMessageId: id };
      }
      const detail = errorCode === undefined ? message : `ErrorCode ${errorCode}: ${message ?? ''}`;
      // A code only refines a refusal; 401, 429 and 5xx already say what to do.
      const refusal = answer.status === 422 || isSuccess(answer.status);
      const byCode = refusal && errorCode !== undefined ? kindOf(ERROR_CODE_KINDS, errorCode) ?? 'permanent' : undefined;
      throw failure('postmark', answer, detail, byCode);
    },
  };
}
