// The stored sender settings: what the schemas accept and refuse, and that the factories build the
// adapter the settings name (pointed at a fake endpoint through deps, never through the settings).
import { describe, expect, it } from 'vitest';
import { createEmailProvider, createSmsProvider, emailProviderConfigSchema, smsProviderConfigSchema } from './config.ts';
import { sampleEmail, sampleSms } from './test-server.ts';

const valid = {
  ses: { kind: 'ses', region: 'eu-west-1', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret', configurationSetName: 'tandem' },
  postmark: { kind: 'postmark', serverToken: 'token', messageStream: 'outbound' },
  sendgrid: { kind: 'sendgrid', apiKey: 'SG.key' },
  mailgun: { kind: 'mailgun', apiKey: 'key', domain: 'mg.example.com', region: 'eu' },
  resend: { kind: 'resend', apiKey: 're_key', timeoutMs: 5000 },
} as const;

/** The URL each kind posts to, for a deps.baseUrl of http://fake.test. */
const expectedUrl = {
  ses: 'http://fake.test/v2/email/outbound-emails',
  postmark: 'http://fake.test/email',
  sendgrid: 'http://fake.test/v3/mail/send',
  mailgun: 'http://fake.test/v3/mg.example.com/messages',
  resend: 'http://fake.test/emails',
} as const;

function recordingFetch(answer: { status: number; body: string; headers?: Record<string, string> }) {
  const urls: string[] = [];
  const f = ((url: string | URL | Request) => {
    urls.push(url instanceof Request ? url.url : url.toString());
    return Promise.resolve(new Response(answer.body, { status: answer.status, headers: answer.headers ?? {} }));
  }) as typeof fetch;
  return { urls, fetch: f };
}

describe('emailProviderConfigSchema', () => {
  it.each(Object.entries(valid))('accepts a %s sender', (_kind, config) => {
    expect(emailProviderConfigSchema.parse(config)).toMatchObject(config);
  });

  it('defaults Mailgun to the US region', () => {
    expect(emailProviderConfigSchema.parse({ kind: 'mailgun', apiKey: 'k', domain: 'mg.example.com' })).toMatchObject({ region: 'us' });
  });

  it.each([
    [{ ...valid.postmark, baseUrl: 'http://169.254.169.254' }, []], // endpoints are not a workspace setting
    [{ ...valid.ses, region: 'evil.com/x#' }, ['region']],
    [{ ...valid.ses, accessKeyId: '' }, ['accessKeyId']],
    [{ ...valid.mailgun, domain: 'mg.example.com/../../v4' }, ['domain']],
    [{ ...valid.mailgun, region: 'asia' }, ['region']],
    [{ ...valid.sendgrid, apiKey: '   ' }, ['apiKey']],
    [{ ...valid.resend, timeoutMs: 10 }, ['timeoutMs']],
    [{ kind: 'sparkpost', apiKey: 'k' }, ['kind']],
  ])('refuses %j at the failing field', (config, path) => {
    const r = emailProviderConfigSchema.safeParse(config);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(path);
  });
});

describe('smsProviderConfigSchema', () => {
  const twilio = { kind: 'twilio', accountSid: `AC${'ab'.repeat(16)}`, authToken: 'token', messagingServiceSid: `MG${'cd'.repeat(16)}` };
  it('accepts a Twilio sender and refuses a malformed Account SID', () => {
    expect(smsProviderConfigSchema.parse(twilio)).toEqual(twilio);
    const r = smsProviderConfigSchema.safeParse({ ...twilio, accountSid: 'AC../../x' });
    expect(r.error?.issues[0]?.path).toEqual(['accountSid']);
  });

  it('builds the Twilio adapter', async () => {
    const { urls, fetch } = recordingFetch({ status: 201, body: '{"sid":"SM1"}' });
    const p = createSmsProvider(smsProviderConfigSchema.parse(twilio), { baseUrl: 'http://fake.test', fetch });
    expect(p.name).toBe('twilio');
    await expect(p.send(sampleSms())).resolves.toEqual({ providerMessageId: 'SM1' });
    expect(urls).toEqual([`http://fake.test/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`]);
  });
});

describe('createEmailProvider', () => {
  it.each(Object.keys(valid) as (keyof typeof valid)[])('builds the %s adapter, aimed where deps say', async (kind) => {
    const { urls, fetch } = recordingFetch({
      status: kind === 'sendgrid' ? 202 : 200,
      body: kind === 'sendgrid' ? '' : JSON.stringify({ MessageId: 'id-1', MessageID: 'id-1', id: 'id-1' }),
      headers: { 'x-message-id': 'id-1' },
    });
    const p = createEmailProvider(emailProviderConfigSchema.parse(valid[kind]), { baseUrl: 'http://fake.test', fetch });
    expect(p.name).toBe(kind);
    await expect(p.send(sampleEmail())).resolves.toEqual({ providerMessageId: 'id-1' });
    expect(urls).toEqual([expectedUrl[kind]]);
  });

  it('goes to the real endpoints by default', async () => {
    const seen: string[] = [];
    for (const kind of Object.keys(valid) as (keyof typeof valid)[]) {
      const { urls, fetch } = recordingFetch({ status: 500, body: '' });
      await createEmailProvider(emailProviderConfigSchema.parse(valid[kind]), { fetch }).send(sampleEmail()).catch(() => undefined);
      seen.push(...urls);
    }
    expect(seen).toEqual([
      'https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails',
      'https://api.postmarkapp.com/email',
      'https://api.sendgrid.com/v3/mail/send',
      'https://api.eu.mailgun.net/v3/mg.example.com/messages',
      'https://api.resend.com/emails',
    ]);
  });
});
