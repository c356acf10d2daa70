// Twilio Programmable Messaging: POST /2010-04-01/Accounts/{AccountSid}/Messages.json,
// form-encoded, Basic AccountSid:AuthToken (https://www.twilio.com/docs/messaging/api/message-resource).
import { basicAuth, failure, isSuccess, joinUrl, jsonObject, missingId, num, post, str, kindOf } from './http.ts';
import type { HttpOptions, OutgoingSms, ProviderErrorKind, SendResult, SmsProvider } from './types.ts';

export const TWILIO_BASE_URL = 'https://api.twilio.com';

export interface TwilioOptions extends HttpOptions {
  accountSid: string;
  authToken: string;
  /** Send through a Messaging Service (MG...) instead of (or besides) a From number. */
  messagingServiceSid?: string;
}

/**
 * Twilio error codes (https://www.twilio.com/docs/api/errors) whose kind differs from the HTTP
 * status. Other 4xx codes (21211 invalid To, 21610 recipient unsubscribed, 21614 not a mobile
 * number, ...) are about this message and stay permanent.
 */
const CODE_KINDS: Record<number, ProviderErrorKind> = {
  20003: 'auth', // authentication failed
  20005: 'auth', // account not active
  10001: 'auth', // account not active
  20429: 'rate_limited', // too many requests
  14107: 'rate_limited', // SMS send rate limit exceeded
};

export function createTwilioProvider(opts: TwilioOptions): SmsProvider {
  const url = joinUrl(opts.baseUrl ?? TWILIO_BASE_URL, `/2010-04-01/Accounts/${encodeURIComponent(opts.accountSid)}/Messages.json`);
  const authorization = basicAuth(opts.accountSid, opts.authToken);
  return {
    name: 'twilio',
    async send(m: OutgoingSms): Promise<SendResult> {
      const form = new URLSearchParams();
      form.set('To', m.to);
      if (opts.messagingServiceSid) form.set('MessagingServiceSid', opts.messagingServiceSid);
      if (m.from) form.set('From', m.from);
      form.set('Body', m.body);
      if (m.statusCallbackUrl) form.set('StatusCallback', m.statusCallbackUrl);
      const answer = await post('twilio', url, {
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
      }, opts);
      const json = jsonObject(answer.text);
      if (isSuccess(answer.status)) {
        const sid = str(json?.sid);
        if (!sid) throw missingId('twilio', answer);
        return { providerMessageId: sid };
      }
      const code = num(json?.code);
      const message = str(json?.message);
      const kind = answer.status < 500 && code !== undefined ? kindOf(CODE_KINDS, code) : undefined;
      throw failure('twilio', answer, code === undefined ? message : `${code}: ${message ?? ''}`, kind);
    },
  };
}
