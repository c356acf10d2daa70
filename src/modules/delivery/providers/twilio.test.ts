// Twilio adapter against a local server that speaks the documented Messages API (not the real
// service), including Twilio's magic test numbers for invalid and unsubscribed recipients.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, fakeServer, form, sampleSms, type FakeServer, type Recorded, type Reply } from './test-server.ts';
import { createTwilioProvider } from './twilio.ts';

const SID = `AC${'a1'.repeat(16)}`;
const TOKEN = 'auth-token-5678';
const SERVICE = `MG${'b2'.repeat(16)}`;

function twilioError(status: number, code: number, message: string): Reply {
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

function twilioApi(rec: Recorded): Reply {
  const creds = basic(rec);
  if (!creds || creds.user !== SID || creds.password !== TOKEN) return twilioError(401, 20003, 'Authenticate');
  if (rec.method !== 'POST' || rec.path !== `/2010-04-01/Accounts/${SID}/Messages.json`) {
    return twilioError(404, 20404, `The requested resource ${rec.path} was not found`);
  }
  if (rec.headers['content-type'] !== 'application/x-www-form-urlencoded') return twilioError(400, 21609, 'Invalid content type');
  const f = form(rec);
  const to = f.get('To');
  if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
  if (!f.get('From') && !f.get('MessagingServiceSid')) return twilioError(400, 21603, "A 'From' phone number is required.");
  if (!f.get('Body')) return twilioError(400, 21602, 'Message body is required.');
  if (to === '+15005550001') return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
  if (to === '+15005550004') return twilioError(400, 21610, 'Attempt to send to unsubscribed recipient');
  return {
    status: 201,
    body: {
      sid: `SM${randomBytes(16).toString('hex')}`, account_sid: SID, to, from: f.get('From'), body: f.get('Body'),
      status: 'queued', messaging_service_sid: f.get('MessagingServiceSid'), error_code: null, error_message: null,
    },
  };
}

describe('twilio adapter', () => {
  let api: FakeServer;
  beforeAll(async () => { api = await fakeServer(twilioApi); });
  afterAll(async () => { await api.close(); });

  const provider = (token = TOKEN, messagingServiceSid?: string) =>
    createTwilioProvider({ accountSid: SID, authToken: token, baseUrl: api.baseUrl, ...(messagingServiceSid ? { messagingServiceSid } : {}) });

  it('posts To, From, Body and StatusCallback form-encoded, and maps sid', async () => {
    const result = await provider().send(sampleSms({ body: 'Código: 123 & más', statusCallbackUrl: 'https://t.example.com/sms/status?m=msg_sms_1' }));
    expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    const f = form(api.requests.at(-1)!);
    expect(Object.fromEntries(f)).toEqual({
      To: '+14155550123', From: '+15005550006', Body: 'Código: 123 & más', StatusCallback: 'https://t.example.com/sms/status?m=msg_sms_1',
    });
  });

  it('sends through a Messaging Service when configured', async () => {
    await provider(TOKEN, SERVICE).send(sampleSms({ from: '' }));
    const f = form(api.requests.at(-1)!);
    expect(f.get('MessagingServiceSid')).toBe(SERVICE);
    expect(f.has('From')).toBe(false);
  });

  it('reports a wrong auth token as auth', async () => {
    await expect(provider('wrong').send(sampleSms())).rejects.toMatchObject({ kind: 'auth', status: 401 });
  });

  it.each([
    ['+15005550001', '21211'], ['+15005550004', '21610'],
  ])('gives up on %s only (error %s is permanent)', async (to, code) => {
    const err = await provider().send(sampleSms({ to })).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'permanent', status: 400 });
    expect((err as Error).message).toContain(code);
  });

  it('reads Twilio rate-limit codes', async () => {
    api.override({ ...twilioError(429, 20429, 'Too Many Requests'), headers: { 'retry-after': '3' } });
    await expect(provider().send(sampleSms())).rejects.toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 3000 });
    api.override(twilioError(400, 14107, 'SMS send rate limit exceeded'));
    await expect(provider().send(sampleSms())).rejects.toMatchObject({ kind: 'rate_limited', status: 400 });
  });
});
