// SendGrid v3 Mail Send: POST /v3/mail/send (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send).
// It answers 202 with an empty body; the message id is the X-Message-Id response header.
import {
  checkedHeaders, failure, isSuccess, joinUrl, jsonObject, missingId, oneLine, post, str,
} from './http.ts';
import type { EmailProvider, HttpOptions, OutgoingEmail, SendResult } from './types.ts';

export const SENDGRID_BASE_URL = 'https://api.sendgrid.com';

export interface SendGridOptions extends HttpOptions { apiKey: string }

/** Headers SendGrid sets itself and refuses in `headers` (its docs list them as reserved). */
const RESERVED = new Set(['x-sg-id', 'x-sg-eid', 'received', 'dkim-signature', 'content-type', 'content-transfer-encoding', 'to', 'from', 'subject', 'reply-to', 'cc', 'bcc']);

function address(a: { address: string; name?: string }) {
  return { email: oneLine(a.address), ...(a.name ? { name: oneLine(a.name) } : {}) };
}

export function createSendGridProvider(opts: SendGridOptions): EmailProvider {
  const url = joinUrl(opts.baseUrl ?? SENDGRID_BASE_URL, '/v3/mail/send');
  return {
    name: 'sendgrid',
    async send(m: OutgoingEmail): Promise<SendResult> {
      const headers = Object.fromEntries(checkedHeaders('sendgrid', m.headers).filter(([name]) => !RESERVED.has(name.toLowerCase())));
      const body = {
        personalizations: [{ to: [address(m.to)] }],
        from: address(m.from),
        ...(m.replyTo ? { reply_to: { email: oneLine(m.replyTo) } } : {}),
        subject: m.subject,
        // SendGrid requires text/plain before text/html.
        content: [{ type: 'text/plain', value: m.text }, { type: 'text/html', value: m.html }],
        ...(Object.keys(headers).length ? { headers } : {}),
        custom_args: { tandem_message_id: m.messageId },
      };
      const answer = await post('sendgrid', url, {
        headers: { authorization: `Bearer ${opts.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }, opts);
      if (isSuccess(answer.status)) {
        const id = str(answer.headers.get('x-message-id'));
        if (!id) throw missingId('sendgrid', answer);
        return { providerMessageId: id };
      }
      const errors = jsonObject(answer.text)?.errors;
      const detail = Array.isArray(errors)
        ? errors.map((e: unknown) => {
          const o = e !== null && typeof e === 'object' ? e as Record<string, unknown> : {};
          return [str(o.field), str(o.message)].filter(Boolean).join(': ');
        }).filter(Boolean).join('; ')
        : undefined;
      // SendGrid's rate limit answer carries X-RateLimit-Reset (epoch seconds) rather than Retry-After.
      const reset = Number(answer.headers.get('x-ratelimit-reset'));
      const untilReset = Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - Date.now()) : undefined;
      throw failure('sendgrid', answer, detail || undefined, undefined, untilReset);
    },
  };
}
