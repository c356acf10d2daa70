// RELIABILITY 20: no secret appears in any API answer or log line after it is saved. Connectors of
// every kind are saved with known secrets (senders of every provider with every inbound secret, an
// SMTP password, a webhook endpoint's signing secret, the Salesforce client secret and refresh token,
// a sending domain's DKIM key); then every GET route the app registers is called with every connector
// id, and every answer body and every log line is scanned for the secrets. Tandem-generated secrets
// are shown once (the answer that creates or rotates them) and never again.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from './harness.ts';
import { registeredRoutes } from './registered-routes.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

const s = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

describe('secrets are never answered after they are saved', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  const lines: string[] = [];
  const secrets = new Map<string, string>();
  const ids: string[] = [];
  /** Answers other than the one that may show a generated secret once. */
  const answers: Array<{ url: string; body: string }> = [];
  const api = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) => {
    const res = await t.app.inject({ method, url, headers: { authorization: bearer(ws.appApiKey) }, ...(payload ? { payload } : {}) });
    return { status: res.statusCode, body: res.body, json: () => res.json<Record<string, unknown>>() };
  };
  const keep = (name: string, value: string) => {
    secrets.set(name, value);
    return value;
  };

  beforeAll(async () => {
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString('utf8')); done(); } });
    // Every level: a secret in a debug line leaks as surely as one in an error.
    t = await createTestTandem({ log: pino({ level: 'trace' }, sink), config: { outboundAllowPrivate: true } });
    ws = await t.workspace('Secrets');
    const inbound = {
      ses: { topicArn: 'arn:aws:sns:eu-west-1:123456789012:bounces' },
      postmark: { username: 'hooks', password: keep('postmark inbound password', s('pm-pass')) },
      sendgrid: { publicKey: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==' },
      mailgun: { signingKey: keep('mailgun signing key', s('mg-sign')) },
      resend: { secret: keep('resend signing secret', `whsec_${randomBytes(24).toString('base64')}`) },
      dsn: { token: keep('dsn token', s('dsn-token')) },
    };
    const configs = [
      { channel: 'email', config: { kind: 'smtp', url: `smtp://relay-user:${keep('smtp password', s('smtp-pass'))}@mail.example.com:587` }, inbound },
      { channel: 'email', config: { kind: 'ses', region: 'eu-west-1', accessKeyId: 'AKIAABCDEFGHIJKLMNOP', secretAccessKey: keep('ses secret key', s('ses-secret')), sessionToken: keep('ses session token', s('ses-session')) } },
      { channel: 'email', config: { kind: 'postmark', serverToken: keep('postmark server token', s('pm-token')) } },
      { channel: 'email', config: { kind: 'sendgrid', apiKey: keep('sendgrid api key', s('SG')) } },
      { channel: 'email', config: { kind: 'mailgun', apiKey: keep('mailgun api key', s('mg-key')), domain: 'mg.example.com' } },
      { channel: 'email', config: { kind: 'resend', apiKey: keep('resend api key', s('re')) } },
      { channel: 'sms', config: { kind: 'twilio', accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: keep('twilio auth token', s('tw')) }, from: '+15005550006' },
    ];
    for (const [i, c] of configs.entries()) {
      const res = await api('POST', '/api/senders', { name: `Sender ${i}`, isDefault: false, ...c });
      expect(res.status, res.body).toBe(201);
      answers.push({ url: 'POST /api/senders', body: res.body });
      ids.push(String(res.json().id));
    }
    const endpoint = await api('POST', '/api/webhooks/endpoints', { url: 'https://hooks.example.com/tandem', eventTypes: ['*'] });
    expect(endpoint.status, endpoint.body).toBe(201);
    const endpointId = String(endpoint.json().id);
    keep('webhook signing secret', String(endpoint.json().secret));
    ids.push(endpointId);
    const withCredentials = await api('POST', '/api/webhooks/endpoints', { url: `https://hook-user:${keep('webhook URL password', s('hook-pass'))}@hooks.example.com/in`, eventTypes: ['*'] });
    expect(withCredentials.status, withCredentials.body).toBe(201);
    answers.push({ url: 'POST /api/webhooks/endpoints (URL with credentials)', body: withCredentials.body.replace(String(withCredentials.json().secret), '') });
    ids.push(String(withCredentials.json().id));
    const rotated = await api('POST', `/api/webhooks/endpoints/${endpointId}/rotate-secret`);
    if (rotated.status < 300) keep('rotated webhook signing secret', String(rotated.json().secret));
    const sf = await api('PUT', '/api/connectors/salesforce', {
      instanceUrl: 'https://acme.my.salesforce.com', clientId: 'client-id', clientSecret: keep('salesforce client secret', s('sf-secret')), refreshToken: keep('salesforce refresh token', s('sf-refresh')),
    });
    expect(sf.status, sf.body).toBe(200);
    answers.push({ url: 'PUT /api/connectors/salesforce', body: sf.body });
    const domain = await api('POST', '/api/domains', { domain: 'acme.example' });
    answers.push({ url: 'POST /api/domains', body: domain.body });
    const stored = await t.services.db.selectFrom('sending_domains').select('private_key').executeTakeFirstOrThrow();
    keep('DKIM private key', stored.private_key.replace(/-----[A-Z ]+-----|\s/g, '').slice(0, 64));
    ids.push('acme.example');
    answers.push({ url: 'POST /api/senders/:id/resume', body: (await api('POST', `/api/senders/${ids[0]}/resume`)).body });
  });
  afterAll(async () => t?.close());

  it('every GET route, with every connector id, answers no saved secret; the log holds none either', async () => {
    // The event stream never ends an answer (server-sent events); it carries events, not connectors.
    const routes = registeredRoutes(t.app).filter((r) => r.method === 'GET' && r.path.startsWith('/api/') && !r.path.endsWith('/stream'));
    let calls = 0;
    for (const route of routes) {
      const fills = route.path.includes(':') ? ids : [''];
      for (const id of fills) {
        const url = route.path.replace(/:[A-Za-z0-9_]+/g, id);
        const res = await api('GET', url);
        calls++;
        answers.push({ url: `GET ${url}`, body: res.body });
      }
    }
    const found: string[] = [];
    for (const [name, value] of secrets) {
      for (const a of answers) if (a.body.includes(value)) found.push(`${name} in ${a.url}`);
      if (lines.some((l) => l.includes(value))) found.push(`${name} in the log`);
    }
    // The list answers did carry the connectors (a scan of empty answers would prove nothing).
    const senders = answers.find((a) => a.url === 'GET /api/senders')?.body ?? '';
    for (const id of ids.slice(0, 7)) expect(senders).toContain(id);
    expect(senders).toContain('smtp://relay-user:••••@mail.example.com:587');
    expect(answers.find((a) => a.url === 'GET /api/webhooks/endpoints')?.body).toContain(ids[7]);
    expect(answers.find((a) => a.url === 'GET /api/webhooks/endpoints')?.body).toContain('https://hook-user:••••@hooks.example.com/in');
    console.log(`secrets: ${secrets.size} saved, ${routes.length} GET routes, ${calls} calls + ${answers.length - calls} write answers, ${lines.length} log lines scanned, found: ${found.length}`);
    expect(found).toEqual([]);
  });
});
