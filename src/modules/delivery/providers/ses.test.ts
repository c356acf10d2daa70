// SES v2 adapter against a local server that speaks the documented SendEmail API (not the real
// service): it recomputes each request's SigV4 signature with aws4 and parses the raw MIME with mailparser.
import { createHash } from 'node:crypto';
import aws4 from 'aws4';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSesProvider, SES_MESSAGE_ID_HEADER } from './ses.ts';
import { fakeServer, json, sampleEmail, type FakeServer, type Recorded, type Reply } from './test-server.ts';

const REGION = 'eu-west-1';
const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

function sesError(status: number, type: string, message: string): Reply {
  return { status, headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/` }, body: { message } };
}

const parsed: ParsedMail[] = [];

/** SES v2 SendEmail: SigV4 over the request as it arrived, Raw content, sandbox-style unverified recipients. */
async function sesApi(rec: Recorded): Promise<Reply> {
  const auth = rec.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/ses\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(auth);
  if (!m || m[1] !== KEY_ID) return sesError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  const signedHeaders: Record<string, string> = {};
  for (const name of m[4]!.split(';')) signedHeaders[name] = String(rec.headers[name] ?? '');
  const expected = aws4.sign({
    host: rec.headers.host, path: rec.path, method: rec.method, service: 'ses', region: REGION,
    headers: signedHeaders, body: rec.body,
  }, { accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: signedHeaders['x-amz-security-token'] || undefined })
    .headers?.Authorization;
  if (m[3] !== REGION || expected !== auth || !signedHeaders.host || !signedHeaders['x-amz-date']) {
    return sesError(403, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
  }
  if (rec.method !== 'POST' || rec.path !== '/v2/email/outbound-emails') return sesError(404, 'NotFoundException', 'Unknown operation');
  const b = json(rec) as {
    Content?: { Raw?: { Data?: string } }; Destination?: { ToAddresses?: string[] }; EmailTags?: { Name: string; Value: string }[];
  };
  const data = b.Content?.Raw?.Data;
  if (!data) return sesError(400, 'BadRequestException', 'Content is required');
  const mail = await simpleParser(Buffer.from(data, 'base64'));
  parsed.push(mail);
  const to = b.Destination?.ToAddresses ?? [];
  if (to.some((a) => a.startsWith('unverified@'))) {
    return sesError(400, 'MessageRejected', `Email address is not verified. The following identities failed the check in region EU-WEST-1: ${to.join(', ')}`);
  }
  return { status: 200, body: { MessageId: `0102018f${createHash('sha1').update(data).digest('hex').slice(0, 24)}-000000` } };
}

describe('ses adapter', () => {
  let api: FakeServer;
  beforeAll(async () => { api = await fakeServer(sesApi); });
  afterAll(async () => { await api.close(); });

  const provider = (secret = SECRET, extra: { sessionToken?: string; configurationSetName?: string } = {}) =>
    createSesProvider({ region: REGION, accessKeyId: KEY_ID, secretAccessKey: secret, baseUrl: api.baseUrl, ...extra });

  it('sends a signed raw MIME message whose headers survive, and maps MessageId', async () => {
    const result = await provider(SECRET, { configurationSetName: 'tandem-events' }).send(sampleEmail());
    expect(result.providerMessageId).toMatch(/^0102018f[0-9a-f]{24}-000000$/);
    const b = json(api.requests.at(-1)!);
    expect(b).toMatchObject({
      FromEmailAddress: 'news@send.example.com',
      Destination: { ToAddresses: ['ada@example.org'] },
      ReplyToAddresses: ['support@example.com'],
      EmailTags: [{ Name: 'tandem_message_id', Value: 'msg_01J9ZK3V6Q' }],
      ConfigurationSetName: 'tandem-events',
    });
    const mail = parsed.at(-1)!;
    expect(mail.from?.value).toEqual([{ address: 'news@send.example.com', name: 'Acme "News", Inc' }]);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value : []).toEqual([{ address: 'ada@example.org', name: 'Ada Lovelace' }]);
    expect(mail.replyTo?.value[0]?.address).toBe('support@example.com');
    expect(mail.subject).toBe('Your weekly digest — ünïcode');
    expect(mail.html).toBe('<p>Hello <b>Ada</b></p>');
    expect(mail.text?.trim()).toBe('Hello Ada');
    // As the recipient's mail client reads them: header lines unfolded (RFC 5322 2.2.3).
    const line = (key: string) => mail.headerLines.find((h) => h.key === key)?.line.replace(/\r?\n(?=[ \t])/g, '');
    expect(line('list-unsubscribe')).toBe('List-Unsubscribe: <https://t.example.com/u/abc>, <mailto:unsub@example.com?subject=abc>');
    expect(line('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(mail.headers.get(SES_MESSAGE_ID_HEADER.toLowerCase())).toBe('msg_01J9ZK3V6Q');
  });

  it('keeps a Message-ID given by the caller', async () => {
    await provider().send(sampleEmail({ headers: { 'Message-ID': '<msg_01J9ZK3V6Q@send.example.com>' } }));
    expect(parsed.at(-1)!.messageId).toBe('<msg_01J9ZK3V6Q@send.example.com>');
  });

  it('signs temporary credentials with their session token', async () => {
    await expect(provider(SECRET, { sessionToken: 'FwoGZXIvYXdzEXAMPLETOKEN' }).send(sampleEmail())).resolves.toHaveProperty('providerMessageId');
    expect(api.requests.at(-1)!.headers['x-amz-security-token']).toBe('FwoGZXIvYXdzEXAMPLETOKEN');
  });

  it('reports a signature made with the wrong secret as auth', async () => {
    await expect(provider('not-the-secret').send(sampleEmail())).rejects.toMatchObject({ kind: 'auth', status: 403 });
    expect(api.requests.at(-1)!.body.length).toBeGreaterThan(0);
  });

  it('gives up on a rejected recipient only (MessageRejected is permanent)', async () => {
    const err = await provider().send(sampleEmail({ to: { address: 'unverified@example.org' } })).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'permanent', status: 400 });
    expect((err as Error).message).toContain('MessageRejected: Email address is not verified');
  });

  it.each([
    [429, 'TooManyRequestsException', 'rate_limited'],
    [400, 'LimitExceededException', 'rate_limited'],
    [400, 'SendingPausedException', 'auth'],
    [400, 'AccountSuspendedException', 'auth'],
    [400, 'MailFromDomainNotVerifiedException', 'auth'],
    [500, 'InternalServiceErrorException', 'retryable'],
  ] as const)('classifies %i %s as %s', async (status, type, kind) => {
    api.override(sesError(status, type, 'no'));
    await expect(provider().send(sampleEmail())).rejects.toMatchObject({ kind, status });
  });
});
