// What every adapter promises the delivery core, checked for all six: how rate limits, outages,
// bad credentials, hangs and refused connections are classified, and that nothing but a
// ProviderError ever escapes, whatever the provider answers.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRetryAfter } from './http.ts';
import { createMailgunProvider } from './mailgun.ts';
import { createPostmarkProvider } from './postmark.ts';
import { createResendProvider } from './resend.ts';
import { createSendGridProvider } from './sendgrid.ts';
import { createSesProvider } from './ses.ts';
import { fakeServer, sampleEmail, sampleSms, type FakeServer } from './test-server.ts';
import { createTwilioProvider } from './twilio.ts';
import { ProviderError, type HttpOptions, type SendResult } from './types.ts';

const adapters: { name: string; send: (o: HttpOptions) => Promise<SendResult> }[] = [
  { name: 'ses', send: (o) => createSesProvider({ region: 'us-east-1', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 's', ...o }).send(sampleEmail()) },
  { name: 'postmark', send: (o) => createPostmarkProvider({ serverToken: 't', ...o }).send(sampleEmail()) },
  { name: 'sendgrid', send: (o) => createSendGridProvider({ apiKey: 'k', ...o }).send(sampleEmail()) },
  { name: 'mailgun', send: (o) => createMailgunProvider({ apiKey: 'k', domain: 'mg.example.com', ...o }).send(sampleEmail()) },
  { name: 'resend', send: (o) => createResendProvider({ apiKey: 'k', ...o }).send(sampleEmail()) },
  { name: 'twilio', send: (o) => createTwilioProvider({ accountSid: `AC${'0'.repeat(32)}`, authToken: 't', ...o }).send(sampleSms()) },
];

async function failureOf(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe.each(adapters)('$name adapter contract', ({ send }) => {
  let api: FakeServer;
  beforeAll(async () => { api = await fakeServer(() => ({ status: 500, body: 'no script' })); });
  afterAll(async () => { await api.close(); });

  it('429 with Retry-After seconds is rate_limited with the delay', async () => {
    api.override({ status: 429, headers: { 'retry-after': '7' }, body: { message: 'slow down' } });
    expect(await failureOf(send({ baseUrl: api.baseUrl }))).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 7000 });
  });

  it('429 with Retry-After as an HTTP date is rate_limited with the time left', async () => {
    api.override({ status: 429, headers: { 'retry-after': new Date(Date.now() + 20_000).toUTCString() }, body: '' });
    const err = await failureOf(send({ baseUrl: api.baseUrl }));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBeGreaterThan(17_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(20_000);
  });

  it('500 is retryable', async () => {
    api.override({ status: 500, body: { message: 'Internal Server Error' } });
    expect(await failureOf(send({ baseUrl: api.baseUrl }))).toMatchObject({ kind: 'retryable', status: 500 });
  });

  it('401 is auth', async () => {
    api.override({ status: 401, body: 'Unauthorized' });
    expect(await failureOf(send({ baseUrl: api.baseUrl }))).toMatchObject({ kind: 'auth', status: 401 });
  });

  it('a server that never answers is retryable after the timeout', async () => {
    api.override('hang');
    const started = Date.now();
    const err = await failureOf(send({ baseUrl: api.baseUrl, timeoutMs: 300 }));
    expect(err).toMatchObject({ kind: 'retryable', status: undefined });
    expect(err.message).toContain('no answer within 300 ms');
    // Far below vitest's 30 s, far above a loaded machine's delay: a send that hangs fails here.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('a refused connection is retryable', async () => {
    expect(await failureOf(send({ baseUrl: 'http://127.0.0.1:1' }))).toMatchObject({ kind: 'retryable' });
  });

  it('error codes named like Object.prototype keys are just unknown codes (found by the property below)', async () => {
    for (const code of ['__proto__', 'constructor', 'toString']) {
      const fakeFetch = (() => Promise.resolve({
        status: 400, ok: false, headers: new Headers({ 'x-amzn-errortype': code, 'content-type': 'application/json' }),
        text: () => Promise.resolve(JSON.stringify({ __type: code, code, name: code, ErrorCode: code, message: 'x' })),
      } as unknown as Response)) as typeof fetch;
      const err = await failureOf(send({ fetch: fakeFetch, timeoutMs: 1000 }));
      expect(['retryable', 'rate_limited', 'permanent', 'auth']).toContain(err.kind);
    }
  });

  it('throws nothing but ProviderError for any status and any answer', async () => {
    const printable = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 100, max: 599 }),
      fc.oneof(
        fc.string(), fc.json(), fc.constant(''), fc.constant('null'), fc.constant('[]'),
        fc.record({ MessageId: fc.anything(), MessageID: fc.anything(), id: fc.anything(), sid: fc.anything(), ErrorCode: fc.anything(), code: fc.anything(), name: fc.anything(), errors: fc.anything() })
          .map((o) => JSON.stringify(o) ?? ''),
      ),
      fc.dictionary(fc.constantFrom('retry-after', 'x-message-id', 'x-amzn-errortype', 'x-ratelimit-reset', 'content-type'), printable),
      fc.constantFrom('answer', 'fetch throws', 'body throws'),
      async (status, body, headers, mode) => {
        const fakeFetch = (() => {
          if (mode === 'fetch throws') return Promise.reject(new TypeError('fetch failed'));
          // Shaped like a Response by hand: the Response constructor refuses 1xx statuses and bodies on 204/304.
          return Promise.resolve({
            status, ok: status >= 200 && status < 300, headers: new Headers(headers),
            text: () => (mode === 'body throws' ? Promise.reject(new Error('socket hang up')) : Promise.resolve(body)),
          } as unknown as Response);
        }) as typeof fetch;
        try {
          const result = await send({ fetch: fakeFetch, timeoutMs: 1000 });
          expect(mode).toBe('answer');
          expect(status >= 200 && status < 300).toBe(true);
          expect(typeof result.providerMessageId).toBe('string');
          expect(result.providerMessageId.length).toBeGreaterThan(0);
        } catch (err) {
          expect(err).toBeInstanceOf(ProviderError);
          const e = err as ProviderError;
          expect(['retryable', 'rate_limited', 'permanent', 'auth']).toContain(e.kind);
          if (mode !== 'answer' || status >= 500) expect(e.kind).toBe('retryable');
          if (e.retryAfterMs !== undefined) expect(Number.isFinite(e.retryAfterMs) && e.retryAfterMs >= 0).toBe(true);
        }
      },
    ), { numRuns: 150 });
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0);
    for (const bad of [null, '', '-5', '1.5', '5 apples', 'soon', '9'.repeat(400), 'Sun, 99 Foo 2026 12:00:30 GMT']) {
      expect(parseRetryAfter(bad, now)).toBeUndefined();
    }
  });
});
