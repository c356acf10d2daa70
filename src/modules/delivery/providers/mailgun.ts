// Mailgun: POST /v3/{domain}/messages, form-encoded, Basic api:KEY
// (https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages).
import {
  basicAuth, checkedHeaders, failure, formatAddress, isSuccess, joinUrl, jsonObject, missingId, oneLine, post, str,
} from './http.ts';
import type { EmailProvider, HttpOptions, OutgoingEmail, SendResult } from './types.ts';

export const MAILGUN_BASE_URLS = { us: 'https://api.mailgun.net', eu: 'https://api.eu.mailgun.net' } as const;

export interface MailgunOptions extends HttpOptions {
  apiKey: string;
  /** The sending domain as set up in Mailgun, e.g. "mg.example.com". */
  domain: string;
  /** Which Mailgun region holds the domain; ignored when baseUrl is given. Default 'us'. */
  region?: 'us' | 'eu';
}

export function createMailgunProvider(opts: MailgunOptions): EmailProvider {
  const base = opts.baseUrl ?? MAILGUN_BASE_URLS[opts.region ?? 'us'];
  const url = joinUrl(base, `/v3/${encodeURIComponent(opts.domain)}/messages`);
  const authorization = basicAuth('api', opts.apiKey);
  return {
    name: 'mailgun',
    async send(m: OutgoingEmail): Promise<SendResult> {
      const form = new URLSearchParams();
      form.set('from', formatAddress(m.from));
      form.set('to', formatAddress(m.to));
      form.set('subject', m.subject);
      form.set('text', m.text);
      form.set('html', m.html);
      if (m.replyTo) form.set('h:Reply-To', oneLine(m.replyTo));
      for (const [name, value] of checkedHeaders('mailgun', m.headers)) form.append(`h:${name}`, value);
      // User variables come back in every event and webhook for this message.
      form.set('v:tandem_message_id', m.messageId);
      const answer = await post('mailgun', url, {
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      }, opts);
      const json = jsonObject(answer.text);
      if (isSuccess(answer.status)) {
        const id = str(json?.id);
        if (!id) throw missingId('mailgun', answer);
        return { providerMessageId: id };
      }
      // 404: the domain is not on this account (or in the other region); every message would fail.
      throw failure('mailgun', answer, str(json?.message), answer.status === 404 ? 'auth' : undefined);
    },
  };
}
