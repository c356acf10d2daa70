// Every HTTP endpoint over a real socket, with plain fetch: one valid call each (documented status and
// body shape), a wrong key for each authenticated one (401 in the route's error dialect), and a
// representative bad input (4xx with a code and the failing field). The route list is discovered from
// Fastify and /api/openapi.json: a route without a case here fails the suite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, createTestTandem, type TestTandem } from './harness.ts';
import { registeredRoutes, templateOf } from './registered-routes.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';
import type { IncomingEvent } from '../src/modules/ingest/index.ts';
import { form, makeImage } from './helpers/images.ts';
import { BROWSER_PATHS } from '../src/modules/segment/index.ts';

type Auth = 'write' | 'track' | 'app' | 'none';
type Dialect = 'segment' | 'customerio' | 'customerio-v2' | 'tandem';

interface Seed {
  ws: CreatedWorkspace;
  /** Tandem's id of the person 'u-1' (ann@example.com). */
  personId: string;
  rotateKeyId: string;
  /** Content resources: one to read, change and publish, one to delete, per kind. */
  layoutId: string; layoutDeleteId: string;
  componentId: string; componentDeleteId: string;
  snippetId: string; snippetDeleteId: string;
  templateId: string; templateDeleteId: string;
  revokeKeyId: string;
  /** Assets: one to read and change, one to delete; the first one's file name and URL on this port. */
  assetId: string; assetDeleteId: string; assetHash: string; assetFile: string; assetFileUrl: string;
  /** A message in the dev inbox. */
  devInboxId: string;
  /** The token of the seeded dev-inbox message's htmlUrl. */
  devInboxToken: string;
  /** A queued message (delivery) and a sending domain to delete. */
  messageId: string;
  /** Senders: one with a Postmark inbound secret, one to delete. */
  senderId: string; senderDeleteId: string;
  /** Webhook endpoints: one to read, change and test, one to delete. */
  webhookEndpointId: string; webhookDeleteId: string;
  /** Consent: topics to read/change and to delete, a suppressed address, signed links of the person 'u-consent'. */
  topicId: string; topicDeleteId: string; suppressedAddress: string;
  unsubscribeToken: string; preferencesToken: string; confirmToken: string;
  /** Tracking: a click token (its link is https://example.com/tracked), the pixel's file name, a view token. */
  clickToken: string; pixelFile: string; viewToken: string;
  /** A CSV import waiting for its file. */
  importId: string;
}

interface Bad {
  /** Defaults to the case's path and body. */
  path?: string;
  body?: unknown;
  status: number;
  code: string;
  field?: string;
  /** The answer is an HTML page that names the code (public consent pages). */
  html?: boolean;
}

interface Case {
  /** The route as Fastify names it: "GET /api/people/:id". */
  route: string;
  /** What to call; `{name}` is replaced from the seed. Defaults to the route's path. */
  path?: string;
  auth: Auth;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  /** The whole body (toEqual, asymmetric matchers allowed), or a function of the seed giving it. */
  expect: unknown;
  /** Extra checks on the response (headers). */
  check?: (res: Response) => void;
  /** Reads the body instead of text/JSON (the SSE stream). */
  read?: (res: Response, s: Seed) => Promise<unknown>;
  bad?: Bad;
}

// Vitest's asymmetric matchers are typed `any`; these wrappers keep the tables typed.
const like = (o: Record<string, unknown>): unknown => expect.objectContaining(o);
const some = (items: unknown[]): unknown => expect.arrayContaining(items);
const matching = (re: RegExp): unknown => expect.stringMatching(re);
const contains = (text: string): unknown => expect.stringContaining(text);
const nullOr = (m: unknown): unknown => expect.toBeOneOf([null, m]);
const ISO = matching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
const STR: unknown = expect.any(String);
const NUM: unknown = expect.any(Number);
const OBJ: unknown = expect.any(Object);
const ARRAY: unknown = expect.any(Array);

/** The documented shapes (docs/api.md). */
const person = (s: Seed, extra: Record<string, unknown> = {}) => ({
  id: s.personId, userId: 'u-1', email: 'ann@example.com', phone: null, identified: true,
  attributes: like({ plan: 'pro' }), timezone: null, locale: null, createdAt: ISO, updatedAt: ISO, ...extra,
});
const webhookView = (extra: Record<string, unknown> = {}) => ({
  id: matching(/^wep_[0-9a-f]{20}$/), url: STR, description: STR, eventTypes: ARRAY, status: 'active',
  disabledReason: null, disabledAt: null, createdAt: ISO, updatedAt: ISO, ...extra,
});
const storedEvent = {
  id: matching(/^\d+$/), type: STR, name: nullOr(STR), properties: OBJ, context: OBJ, userId: nullOr(STR),
  anonymousId: nullOr(STR), messageId: nullOr(STR), source: STR, timestamp: ISO, receivedAt: ISO,
};
const keyView = (kind: string, name: unknown = STR) => ({
  id: STR, kind, name, prefix: STR, createdAt: ISO, revokedAt: null, lastUsedAt: nullOr(ISO),
});
const eventType = (type: string, name: string) => ({
  type, name, firstSeen: ISO, lastSeen: ISO, count24h: NUM, count7d: NUM, sample: OBJ,
  properties: ARRAY, typeChanges: ARRAY,
});
const assetView = (o: Record<string, unknown>) => ({
  id: matching(/^ast_[0-9a-f]{20}$/), name: STR, url: STR, hash: matching(/^[0-9a-f]{64}$/), contentType: STR, bytes: NUM,
  width: nullOr(NUM), height: nullOr(NUM), alt: STR, folder: nullOr(STR), tags: ARRAY, sourceUrl: nullOr(STR),
  createdAt: ISO, updatedAt: ISO, ...o,
});
const UPLOAD_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24"><circle cx="12" cy="12" r="10"/></svg>';

const SEGMENT_PATHS = ['identify', 'track', 'page', 'screen', 'group', 'alias', 'batch', 'import'].map((k) => `/v1/${k}`);

/** analytics.js sends a CORS preflight before each call from a browser. */
const preflight = (path: string): Case => ({
  route: `OPTIONS ${path}`, auth: 'none', status: 204, expect: '',
  check: (res) => {
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
  },
});

const segment = (kind: string, body: unknown, bad: Bad): Case => ({
  route: `POST /v1/${kind}`, auth: 'write', body, status: 200, expect: { success: true }, bad,
  check: (res) => expect(res.headers.get('access-control-allow-origin')).toBe('*'),
});

const cio = (route: string, path: string, body: unknown, bad?: Bad): Case => ({
  route, path, auth: 'track', body, status: 200, expect: {}, ...(bad ? { bad } : {}),
});

/** Valid bodies of each content kind, and an invalid one with the field it fails on. */
const CONTENT = {
  layout: { path: 'layouts', body: { mjml: '<mjml><mj-body>{{ content }}</mj-body></mjml>' }, bad: { mjml: 7 }, field: 'body.mjml' },
  component: { path: 'components', body: { mjml: '<mj-text>{{ props.text }}</mj-text>', props: { text: { type: 'text' } } },
    bad: { mjml: 'x', props: { text: { type: 'video' } } }, field: 'body.props.text.type' },
  snippet: { path: 'snippets', body: { liquid: 'Hello {{ customer.first_name }}' }, bad: {}, field: 'body.liquid' },
  template: { path: 'templates', body: { channel: 'sms', marketing: false, sms: { body: 'Hi' } },
    bad: { channel: 'email', marketing: true }, field: 'body.email' },
} as const;
type ContentKind = keyof typeof CONTENT;

const contentVersion = (body: unknown) => ({ version: NUM, body, createdAt: ISO, publishedAt: nullOr(ISO) });
const contentSummary = (kind: string, name: unknown) => ({
  id: STR, kind, name, draftVersion: NUM, publishedVersion: nullOr(NUM), createdAt: ISO, updatedAt: ISO,
});
const contentDetail = (kind: string, name: unknown, body: unknown, published: unknown) => ({
  ...contentSummary(kind, name), draft: contentVersion(body), published,
});

/** The transactional API, messages and sending domains. */
function deliveryCases(): Case[] {
  const message = like({ id: STR, channel: 'email', status: STR, to: STR, createdAt: ISO });
  const records = { domain: STR, dkim: like({ name: STR, value: STR }), spf: OBJ, dmarc: OBJ };
  return [
    {
      route: 'POST /v1/send/email', auth: 'app', status: 200,
      body: { to: 'ann@example.com', subject: 'Hi {{ trigger.name }}', body: '<p>Hi</p>', message_data: { name: 'Ann' } },
      expect: { delivery_id: STR, queued_at: NUM },
      bad: { body: { to: 'ann@example.com', subject: 'Hi', body: 'x', bcc: 'b@example.com' }, status: 400, code: 'request.invalid', field: 'bcc' },
    },
    {
      route: 'POST /v1/send/sms', auth: 'app', status: 200,
      body: { to: '+15550001111', body: 'Hi {{ trigger.name }}', message_data: { name: 'Ann' } },
      expect: { delivery_id: STR, queued_at: NUM },
      bad: { body: { body: 'Hi' }, status: 400, code: 'send.no_recipient', field: 'to' },
    },
    {
      route: 'GET /api/messages', auth: 'app', status: 200, expect: { messages: some([message]), nextCursor: null },
      bad: { path: '/api/messages?personId=nope', status: 400, code: 'request.invalid', field: 'querystring.personId' },
    },
    {
      route: 'GET /api/messages/:id', path: '/api/messages/{messageId}', auth: 'app', status: 200,
      expect: like({ id: STR, events: some([like({ type: 'queued' })]) }),
      bad: { path: '/api/messages/dlv_000000000000000000000000', status: 404, code: 'message.not_found', field: 'id' },
    },
    {
      route: 'POST /api/domains', auth: 'app', body: { domain: 'mail.real-port.example' }, status: 201, expect: records,
      bad: { body: { domain: 'not a domain' }, status: 400, code: 'request.invalid', field: 'domain' },
    },
    {
      route: 'GET /api/domains', auth: 'app', status: 200, expect: { domains: some([like({ domain: 'delete.example' })]) },
    },
    {
      route: 'DELETE /api/domains/:domain', path: '/api/domains/delete.example', auth: 'app', status: 204, expect: '',
      bad: { path: '/api/domains/unknown.example', status: 404, code: 'domain.not_found', field: 'domain' },
    },
    {
      route: 'GET /api/senders', auth: 'app', status: 200, expect: { senders: some([like({ id: STR, kind: 'smtp', settings: like({ url: 'smtp://127.0.0.1:9?ignoreTLS=true', inbound: like({ postmark: like({ password: '••••' }) }) }) })]) },
    },
    {
      route: 'POST /api/senders', auth: 'app', status: 201,
      body: { name: 'Postmark', channel: 'email', isDefault: false, config: { kind: 'postmark', serverToken: 'pm-token' } },
      expect: like({ id: STR, kind: 'postmark', isDefault: false, settings: like({ serverToken: '••••' }) }),
      bad: { body: { name: 'x', channel: 'email', config: { kind: 'fax' } }, status: 400, code: 'request.invalid', field: 'config' },
    },
    {
      route: 'POST /api/senders/:id/resume', path: '/api/senders/{senderId}/resume', auth: 'app', status: 200,
      expect: like({ status: 'active', pausedReason: null }),
      bad: { path: '/api/senders/snd_00000000000000000000/resume', status: 404, code: 'sender.not_found', field: 'id' },
    },
    {
      route: 'DELETE /api/senders/:id', path: '/api/senders/{senderDeleteId}', auth: 'app', status: 204, expect: '',
      bad: { path: '/api/senders/snd_00000000000000000000', status: 404, code: 'sender.not_found', field: 'id' },
    },
    {
      route: 'POST /webhooks/inbound/:provider/:senderId', path: '/webhooks/inbound/postmark/{senderId}', auth: 'none',
      headers: { authorization: `Basic ${Buffer.from('hooks:real-port-secret').toString('base64')}` },
      body: { RecordType: 'Delivery', MessageID: 'pm-x', Recipient: 'x@example.com', DeliveredAt: new Date().toISOString() },
      status: 200, expect: { received: 1, applied: NUM, duplicates: NUM },
      bad: { body: [1, 2, 3], status: 400, code: 'inbound.payload', field: 'body' },
    },
  ];
}

/** Saving a template answers its lint; the seed's SMS template is clean. */
const lintOf = (kind: ContentKind) => (kind === 'template' ? { lint: { templateId: STR, version: NUM, findings: [], errors: 0, warnings: 0 } } : {});

/** Preview, test send, lint, usage and change preview of the seeded resources; the dev inbox. */
function renderCases(): Case[] {
  const tpl = '/api/content/templates/{templateId}';
  const unknownTpl = '/api/content/templates/tpl_00000000000000000000';
  const usage = (kind: 'layout' | 'component' | 'snippet'): Case => ({
    route: `GET /api/content/${kind}s/:id/usage`, path: `/api/content/${kind}s/{${kind}Id}/usage`, auth: 'app', status: 200,
    expect: { templates: ARRAY },
    bad: { path: `/api/content/${kind}s/xyz_00000000000000000000/usage`, status: 404, code: 'content.not_found', field: 'id' },
  });
  return [
    {
      route: 'POST /api/content/templates/:id/preview', path: `${tpl}/preview`, auth: 'app', body: {}, status: 200,
      expect: like({ channel: 'sms', sms: { body: 'Hi' }, locale: null, person: null, event: null, warnings: [] }),
      bad: { body: { version: 99 }, status: 404, code: 'content.version_not_found', field: 'version' },
    },
    {
      route: 'POST /api/content/templates/:id/test-send', path: `${tpl}/test-send`, auth: 'app', body: { to: '+15550001111' }, status: 202,
      expect: { devInboxId: STR, deliveredTo: 'dev-inbox', senderId: null, providerMessageId: null, rendered: like({ sms: { body: 'Hi' } }) },
      bad: { body: {}, status: 400, code: 'request.invalid', field: 'to' },
    },
    {
      route: 'GET /api/content/templates/:id/lint', path: `${tpl}/lint`, auth: 'app', status: 200,
      expect: { templateId: STR, version: NUM, findings: [], errors: 0, warnings: 0 },
      bad: { path: `${unknownTpl}/lint`, status: 404, code: 'content.not_found', field: 'id' },
    },
    usage('layout'), usage('component'), usage('snippet'),
    {
      route: 'POST /api/content/components/:id/change-preview', path: '/api/content/components/{componentId}/change-preview',
      auth: 'app', body: {}, status: 200,
      expect: { component: like({ id: STR, candidateVersion: NUM }), templates: ARRAY },
      bad: { body: { componentVersion: 99 }, status: 404, code: 'content.version_not_found', field: 'componentVersion' },
    },
    {
      route: 'GET /api/dev-inbox', auth: 'app', status: 200,
      expect: { messages: some([like({ subject: 'Seeded', to: 'ann@example.com' })]), next: null },
      bad: { path: '/api/dev-inbox?limit=0', status: 400, code: 'request.invalid', field: 'querystring.limit' },
    },
    {
      route: 'GET /api/dev-inbox/:id', path: '/api/dev-inbox/{devInboxId}', auth: 'app', status: 200,
      expect: like({ subject: 'Seeded', html: '<p>Hi</p>', text: 'Hi' }),
      bad: { path: '/api/dev-inbox/dev_00000000000000000000', status: 404, code: 'dev_inbox.not_found', field: 'id' },
    },
    {
      // test/browser/dev-inbox-html.test.ts: the page in Chromium, its sandbox, forged tokens.
      route: 'GET /dev-inbox/:token', path: '/dev-inbox/{devInboxToken}', auth: 'none', status: 200, expect: '<p>Hi</p>',
      check: (res) => expect(res.headers.get('content-security-policy')).toContain('sandbox'),
    },
  ];
}

function contentCases(kind: ContentKind): Case[] {
  const { path, body, bad, field } = CONTENT[kind];
  const base = `/api/content/${path}`;
  const one = `${base}/{${kind}Id}`;
  const unknown = `${base}/xyz_00000000000000000000`;
  const notFound = { path: unknown, status: 404, code: 'content.not_found', field: 'id' };
  return [
    {
      route: `GET ${base}`, auth: 'app', status: 200,
      expect: { resources: some([contentSummary(kind, `${kind}-seed`)]), next: null },
      bad: { path: `${base}?limit=0`, status: 400, code: 'request.invalid', field: 'querystring.limit' },
    },
    {
      route: `POST ${base}`, auth: 'app', body: { name: `${kind}-created`, body }, status: 201,
      expect: { ...contentDetail(kind, `${kind}-created`, body, null), ...lintOf(kind) },
      bad: { body: { name: `${kind}-bad`, body: bad }, status: 400, code: 'request.invalid', field },
    },
    {
      route: `GET ${base}/:id`, path: one, auth: 'app', status: 200,
      expect: contentDetail(kind, `${kind}-seed`, body, nullOr(contentVersion(body))),
      bad: notFound,
    },
    {
      route: `PUT ${base}/:id`, path: one, auth: 'app', body: { body }, status: 200,
      expect: { ...contentDetail(kind, `${kind}-seed`, body, nullOr(contentVersion(body))), ...lintOf(kind) },
      bad: { body: { body: bad }, status: 400, code: 'request.invalid', field },
    },
    {
      route: `GET ${base}/:id/versions`, path: `${one}/versions`, auth: 'app', status: 200,
      expect: { versions: some([contentVersion(body)]) },
      bad: { ...notFound, path: `${unknown}/versions` },
    },
    {
      route: `POST ${base}/:id/publish`, path: `${one}/publish`, auth: 'app', body: {}, status: 200,
      expect: contentDetail(kind, `${kind}-seed`, body, contentVersion(body)),
      bad: { body: { version: 99 }, status: 404, code: 'content.version_not_found', field: 'version' },
    },
    {
      route: `DELETE ${base}/:id`, path: `${base}/{${kind}DeleteId}`, auth: 'app', status: 204, expect: '',
      bad: notFound,
    },
  ];
}

/** Consent: topics, a person's consent and ledger, suppressions (app key), and the public pages (no key). */
/** Open and click tracking, view in browser, tracking settings, template metrics. */
function trackingCases(): Case[] {
  const badLink = (path: string): Bad => ({ path, status: 404, code: 'tracking.bad_token', html: true });
  const settings = { openTracking: true, clickTracking: true, utm: { source: 'tandem', medium: 'email' } };
  const BOOL: unknown = expect.any(Boolean);
  return [
    {
      route: 'GET /c/:token', path: '/c/{clickToken}', auth: 'none', status: 302, expect: '',
      check: (res) => expect(res.headers.get('location')).toBe('https://example.com/tracked'),
      bad: badLink('/c/forged.token'),
    },
    {
      route: 'GET /o/:file', path: '/o/{pixelFile}', auth: 'none', status: 200, expect: matching(/^GIF89a/),
      check: (res) => {
        expect(res.headers.get('content-type')).toBe('image/gif');
        expect(res.headers.get('cache-control')).toContain('no-store');
      },
      bad: badLink('/o/forged.token.gif'),
    },
    {
      route: 'GET /v/:token', path: '/v/{viewToken}', auth: 'none', status: 200, expect: contains('This message is not available'),
      check: (res) => {
        expect(res.headers.get('x-frame-options')).toBe('DENY');
        expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      },
      bad: badLink('/v/forged.token'),
    },
    {
      route: 'GET /api/tracking/settings', auth: 'app', status: 200, expect: { openTracking: BOOL, clickTracking: BOOL, utm: nullOr(OBJ) },
    },
    {
      route: 'PUT /api/tracking/settings', auth: 'app', body: settings, status: 200, expect: settings,
      bad: { body: { openTracking: 'yes', clickTracking: true }, status: 400, code: 'request.invalid', field: 'openTracking' },
    },
    {
      route: 'GET /api/content/templates/:id/metrics', path: '/api/content/templates/{templateId}/metrics', auth: 'app', status: 200,
      expect: (s: Seed) => like({ templateId: s.templateId, total: NUM, sent: NUM, opened: NUM, clicked: NUM, rates: OBJ }),
      bad: { path: '/api/content/templates/tpl_nope/metrics', status: 404, code: 'content.not_found', field: 'id' },
    },
  ];
}

function consentCases(): Case[] {
  const topic = (o: Record<string, unknown>) => ({
    id: matching(/^top_[0-9a-f]{20}$/), key: STR, name: STR, description: STR, default: STR, channel: STR, doubleOptIn: false,
    createdAt: ISO, updatedAt: ISO, ...o,
  });
  const topicBody = { key: 'created-topic', name: 'Created', default: 'opt_in', channel: 'email' };
  const noTopic = { path: '/api/topics/top_00000000000000000000', status: 404, code: 'topic.not_found', field: 'id' };
  const state = { personId: STR, topics: some([like({ key: 'seed-topic', state: STR, explicit: expect.any(Boolean) as unknown })]), unsubscribedAll: { email: expect.any(Boolean) as unknown, sms: false }, suppressions: ARRAY };
  const page = (text: string) => ({
    status: 200, expect: contains(text),
    check: (res: Response) => {
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('set-cookie')).toBeNull();
    },
  });
  const fields = (entries: Array<[string, string]>) => {
    const fd = new FormData();
    for (const [k, v] of entries) fd.append(k, v);
    return fd;
  };
  const badToken = (prefix: string) => ({ path: `${prefix}/forged.token`, status: 400, code: 'consent.bad_token', html: true });
  return [
    {
      route: 'GET /api/topics', path: '/api/topics?channel=email', auth: 'app', status: 200,
      expect: { topics: some([topic({ key: 'seed-topic', name: 'Seed topic', default: 'opt_out' })]) },
      bad: { path: '/api/topics?channel=fax', status: 400, code: 'request.invalid', field: 'querystring.channel' },
    },
    {
      route: 'POST /api/topics', auth: 'app', body: topicBody, status: 201, expect: topic(topicBody),
      bad: { body: { ...topicBody, key: 'Not A Key' }, status: 400, code: 'request.invalid', field: 'key' },
    },
    {
      route: 'GET /api/topics/:id', path: '/api/topics/{topicId}', auth: 'app', status: 200,
      expect: (s: Seed) => topic({ id: s.topicId, key: 'seed-topic' }), bad: noTopic,
    },
    {
      route: 'PUT /api/topics/:id', path: '/api/topics/{topicId}', auth: 'app', status: 200,
      body: { key: 'seed-topic', name: 'Seed topic', description: 'Changed', default: 'opt_out', channel: 'email' },
      expect: (s: Seed) => topic({ id: s.topicId, key: 'seed-topic', description: 'Changed' }),
      bad: { body: { key: 'delete-topic', name: 'Clash', default: 'opt_out', channel: 'email' }, status: 409, code: 'topic.key_taken', field: 'key' },
    },
    {
      route: 'DELETE /api/topics/:id', path: '/api/topics/{topicDeleteId}', auth: 'app', status: 204, expect: '', bad: noTopic,
    },
    {
      route: 'GET /api/people/:id/consent', path: '/api/people/u-consent/consent?by=userId', auth: 'app', status: 200, expect: state,
      bad: { path: '/api/people/nobody/consent?by=userId', status: 404, code: 'person.not_found', field: 'id' },
    },
    {
      route: 'PUT /api/people/:id/consent', path: '/api/people/u-consent/consent?by=userId', auth: 'app', status: 200,
      body: { source: 'api', topics: { 'seed-topic': false }, ip: '192.0.2.1' },
      expect: { changes: ARRAY, consent: state },
      bad: { body: { source: 'crm' }, status: 400, code: 'request.invalid', field: 'source' },
    },
    {
      route: 'GET /api/people/:id/consent/ledger', path: '/api/people/u-consent/consent/ledger?by=userId', auth: 'app', status: 200,
      expect: { entries: some([like({ topic: 'seed-doi', from: 'unsubscribed', to: 'pending', source: 'form' })]), next: null },
      bad: { path: '/api/people/u-consent/consent/ledger?by=userId&before=x', status: 400, code: 'request.invalid', field: 'querystring.before' },
    },
    {
      route: 'GET /api/suppressions', path: '/api/suppressions?channel=email', auth: 'app', status: 200,
      expect: { suppressions: some([{ channel: 'email', address: 'seeded@example.com', reason: 'manual', source: 'admin', createdAt: ISO }]) },
      bad: { path: '/api/suppressions?channel=fax', status: 400, code: 'request.invalid', field: 'querystring.channel' },
    },
    {
      route: 'POST /api/suppressions', auth: 'app', body: { channel: 'email', address: 'New@Example.com' }, status: 201,
      expect: { channel: 'email', address: 'new@example.com', reason: 'manual', source: 'api', createdAt: ISO },
      bad: { body: { channel: 'sms', address: 'not a phone' }, status: 400, code: 'consent.invalid_address', field: 'address' },
    },
    {
      route: 'DELETE /api/suppressions/:channel/:address', path: '/api/suppressions/email/{suppressedAddress}', auth: 'app', status: 204, expect: '',
      bad: { path: '/api/suppressions/email/never%40example.com', status: 404, code: 'consent.suppression_not_found', field: 'address' },
    },
    { route: 'GET /u/:token', path: '/u/{unsubscribeToken}', auth: 'none', ...page('Unsubscribe from all email from Real port?'), bad: badToken('/u') },
    {
      route: 'POST /u/:token', path: '/u/{unsubscribeToken}', auth: 'none', body: fields([['List-Unsubscribe', 'One-Click']]),
      ...page('You are unsubscribed'),
      bad: { body: fields([['List-Unsubscribe', 'Maybe']]), status: 400, code: 'consent.bad_request', html: true },
    },
    { route: 'GET /preferences/:token', path: '/preferences/{preferencesToken}', auth: 'none', ...page('Seed topic'), bad: badToken('/preferences') },
    {
      route: 'POST /preferences/:token', path: '/preferences/{preferencesToken}', auth: 'none',
      body: fields([['save', '1'], ['shown', 'seed-topic'], ['topic', 'seed-topic']]), ...page('Your preferences have been saved.'),
      bad: { body: fields([['shown', 'seed-topic']]), status: 400, code: 'consent.bad_request', html: true },
    },
    { route: 'GET /confirm/:token', path: '/confirm/{confirmToken}', auth: 'none', ...page('Seed double opt-in'), bad: badToken('/confirm') },
    {
      route: 'POST /confirm/:token', path: '/confirm/{confirmToken}', auth: 'none', body: fields([['confirm', '1']]),
      ...page('Seed double opt-in'), bad: badToken('/confirm'),
    },
  ];
}

function segmentCases(): Case[] {
  const pro = { type: 'attribute', path: 'plan', op: 'equals', value: 'pro' };
  const segView = (o: Record<string, unknown>) => like({ id: matching(/^seg_[0-9a-f]{16}$/), createdAt: ISO, updatedAt: ISO, ...o });
  const noSeg = { path: '/api/segments/nope', status: 404, code: 'segment.not_found', field: 'id' };
  return [
    { route: 'GET /api/segments', auth: 'app', status: 200, expect: { segments: some([segView({ key: 'rp-seg', kind: 'dynamic' }), segView({ key: 'rp-list', kind: 'manual' })]) } },
    {
      route: 'POST /api/segments', auth: 'app', status: 201, body: { key: 'rp-new', name: 'New', definition: pro },
      expect: segView({ key: 'rp-new', kind: 'dynamic', status: 'building', definition: pro }),
      bad: { body: { key: 'Bad Key', name: 'x' }, status: 400, code: 'request.invalid', field: 'key' },
    },
    {
      route: 'POST /api/segments/preview', auth: 'app', status: 200, body: { definition: pro },
      expect: like({ count: NUM, sample: ARRAY, tookMs: NUM, warnings: ARRAY }),
      bad: { body: { definition: { type: 'nope' } }, status: 400, code: 'request.invalid', field: 'definition.type' },
    },
    {
      route: 'POST /api/segments/explain', auth: 'app', status: 200, body: { definition: pro, person: 'u-1', by: 'userId' },
      expect: like({ member: true, stored: null, tree: like({ result: true, label: 'plan equals "pro"' }) }),
      bad: { body: { definition: pro, person: 'nobody', by: 'userId' }, status: 404, code: 'person.not_found', field: 'id' },
    },
    { route: 'GET /api/segments/:id', path: '/api/segments/rp-seg', auth: 'app', status: 200, expect: segView({ key: 'rp-seg', memberCount: NUM }), bad: noSeg },
    {
      route: 'PUT /api/segments/:id', path: '/api/segments/rp-seg', auth: 'app', status: 200, body: { key: 'rp-seg', name: 'Renamed', definition: pro },
      expect: segView({ key: 'rp-seg', name: 'Renamed' }),
      bad: { body: { key: 'rp-seg', name: 'x', definition: { type: 'segment', segment: 'missing' } }, status: 400, code: 'segment.unknown_reference', field: 'definition.segment' },
    },
    { route: 'DELETE /api/segments/:id', path: '/api/segments/rp-del', auth: 'app', status: 204, expect: '', bad: noSeg },
    {
      route: 'GET /api/segments/:id/explain', path: '/api/segments/rp-seg/explain?person=u-1&by=userId', auth: 'app', status: 200,
      expect: like({ member: true, tree: like({ result: true }) }),
      bad: { path: '/api/segments/rp-seg/explain', status: 400, code: 'request.invalid', field: 'querystring.person' },
    },
    { route: 'GET /api/segments/:id/warnings', path: '/api/segments/rp-seg/warnings', auth: 'app', status: 200, expect: { warnings: ARRAY }, bad: { ...noSeg, path: '/api/segments/nope/warnings' } },
    {
      route: 'GET /api/segments/:id/members', path: '/api/segments/rp-list/members', auth: 'app', status: 200, expect: like({ members: ARRAY }),
      bad: { path: '/api/segments/rp-list/members?limit=0', status: 400, code: 'request.invalid', field: 'querystring.limit' },
    },
    {
      route: 'GET /api/segments/:id/changes', path: '/api/segments/rp-list/changes', auth: 'app', status: 200, expect: like({ changes: ARRAY }),
      bad: { path: '/api/segments/rp-list/changes?before=x', status: 400, code: 'request.invalid', field: 'querystring.before' },
    },
    {
      route: 'GET /api/segments/:id/export', path: '/api/segments/rp-list/export', auth: 'app', status: 200, expect: contains('person_id,id,email,phone,entered_at'),
      bad: { path: '/api/segments/rp-list/export?format=xml', status: 400, code: 'request.invalid', field: 'querystring.format' },
    },
    {
      route: 'POST /api/segments/:id/members', path: '/api/segments/rp-list/members', auth: 'app', status: 200, body: { add: ['u-1'], by: 'userId' },
      expect: { added: NUM, removed: 0 },
      bad: { path: '/api/segments/rp-seg/members', status: 409, code: 'segment.not_manual', field: 'list' },
    },
    {
      route: 'POST /api/segments/:id/rebuild', path: '/api/segments/rp-seg/rebuild', auth: 'app', status: 200, expect: { entered: NUM, exited: NUM, ms: NUM },
      bad: { path: '/api/segments/rp-list/rebuild', status: 409, code: 'segment.not_dynamic', field: 'id' },
    },
    {
      route: 'GET /api/people/:id/segments', path: '/api/people/{personId}/segments', auth: 'app', status: 200, expect: { segments: ARRAY },
      bad: { path: '/api/people/nobody/segments?by=userId', status: 404, code: 'person.not_found', field: 'id' },
    },
  ];
}

function importCases(): Case[] {
  const view = (o: Record<string, unknown>): unknown => ({
    id: matching(/^imp_[0-9a-f]{20}$/), type: 'people', status: 'done', options: { list: null, updateOnly: false, dryRun: false },
    fileName: null, bytesRead: NUM, rowsDone: 1, rowsCreated: 1, rowsUpdated: 0, rowsSkipped: 0, rowsFailed: 0, errors: [], failure: null,
    createdAt: ISO, startedAt: ISO, finishedAt: ISO, updatedAt: ISO, ...o,
  });
  const csv = { 'content-type': 'text/csv' };
  return [
    {
      route: 'POST /api/imports', auth: 'app', status: 201, body: { type: 'people', fileName: 'rp.csv' },
      expect: view({ status: 'waiting', fileName: 'rp.csv', bytesRead: 0, rowsDone: 0, rowsCreated: 0, startedAt: null, finishedAt: null }),
      bad: { body: { type: 'people', list: '' }, status: 400, code: 'request.invalid', field: 'list' },
    },
    {
      // The bad call repeats the good one: the import has its file by then.
      route: 'PUT /api/imports/:id/csv', path: '/api/imports/{importId}/csv', auth: 'app', status: 200, headers: csv, body: 'id,plan\nrp-1,pro\n',
      expect: view({ bytesRead: 17 }),
      bad: { status: 409, code: 'import.not_waiting', field: 'id' },
    },
    {
      route: 'POST /api/imports/people', path: '/api/imports/people?file_name=one.csv', auth: 'app', status: 201, headers: csv,
      body: 'id,email\nrp-2,rp2@example.com\n', expect: view({ fileName: 'one.csv', bytesRead: 30 }),
      bad: { body: 'name\nAnn\n', status: 400, code: 'import.bad_header', field: 'header' },
    },
    {
      route: 'GET /api/imports/:id', path: '/api/imports/{importId}', auth: 'app', status: 200, expect: view({ bytesRead: 17 }),
      bad: { path: '/api/imports/imp_00000000000000000000', status: 404, code: 'import.not_found', field: 'id' },
    },
    {
      route: 'GET /api/imports', auth: 'app', status: 200, expect: { imports: some([view({ fileName: 'one.csv', bytesRead: 30 })]) },
      bad: { path: '/api/imports?limit=0', status: 400, code: 'request.invalid', field: 'querystring.limit' },
    },
  ];
}

const CASES: Case[] = [
  // Segment HTTP Tracking API (write key).
  segment('identify', { userId: 'u-1', anonymousId: 'a-1', traits: { email: 'ann@example.com', plan: 'pro' } },
    { body: { traits: { plan: 'pro' } }, status: 400, code: 'event.missing_identity', field: 'userId' }),
  segment('track', { userId: 'u-1', event: 'Signed Up', properties: { plan: 'pro' } },
    { body: { userId: 'u-1' }, status: 400, code: 'request.invalid', field: 'event' }),
  segment('page', { anonymousId: 'a-1', name: 'Pricing' },
    { body: { name: 'Pricing' }, status: 400, code: 'event.missing_identity', field: 'userId' }),
  segment('screen', { userId: 'u-1', name: 'Home' },
    { body: { userId: 'u-1', name: 'x'.repeat(501) }, status: 400, code: 'request.invalid', field: 'name' }),
  segment('group', { userId: 'u-1', groupId: 'g-1', traits: { name: 'Acme' } },
    { body: { userId: 'u-1' }, status: 400, code: 'request.invalid', field: 'groupId' }),
  segment('alias', { previousId: 'a-2', userId: 'u-1' },
    { body: { previousId: 'a-2' }, status: 400, code: 'event.missing_identity', field: 'userId' }),
  segment('batch', { batch: [{ type: 'track', userId: 'u-1', event: 'Batched' }] },
    { body: { batch: [{ type: 'track', userId: 'u-1', event: 'Ok' }, { type: 'track', event: 'No one' }] },
      status: 400, code: 'event.missing_identity', field: 'batch[1].userId' }),
  segment('import', { batch: [{ type: 'identify', userId: 'u-1', traits: { imported: true } }] },
    { body: { batch: [{ type: 'nope', userId: 'u-1' }] }, status: 400, code: 'request.invalid', field: 'batch[0].type' }),
  ...SEGMENT_PATHS.map(preflight),
  // analytics-next's paths (test/browser/segment-analytics-next.test.ts drives the real library): JSON
  // as text/plain with the write key in the body too.
  ...Object.entries(BROWSER_PATHS).flatMap(([kind, p]): Case[] => {
    const call = kind === 'batch' ? { batch: [{ type: 'track', userId: 'u-1', event: 'Browser batched' }] }
      : { userId: 'u-1', previousId: 'a-browser', groupId: 'g-1', event: 'Browser', name: 'Browser', traits: {} };
    return [{
      route: `POST ${p}`, auth: 'write', status: 200, expect: { success: true },
      body: (s: Seed) => ({ ...call, writeKey: s.ws.writeKey }), headers: { 'content-type': 'text/plain' },
      bad: { body: '{"userId": ', status: 400, code: 'request.invalid_json', field: 'body' },
      check: (res) => expect(res.headers.get('access-control-allow-origin')).toBe('*'),
    }, preflight(p)];
  }),

  // Customer.io Track API v1 and v2 (Basic site id : track key); every success is `{}`.
  cio('PUT /api/v1/customers/:identifier', '/api/v1/customers/u-1', { company: 'Acme' },
    { body: { company: 'x'.repeat(1001) }, status: 400, code: 'request.invalid', field: 'company' }),
  cio('DELETE /api/v1/customers/:identifier', '/api/v1/customers/u-gone', undefined),
  cio('POST /api/v1/customers/:identifier/suppress', '/api/v1/customers/u-supp/suppress', {}),
  cio('POST /api/v1/customers/:identifier/unsuppress', '/api/v1/customers/u-supp/unsuppress', {}),
  cio('POST /api/v1/customers/:identifier/events', '/api/v1/customers/u-1/events', { name: 'Purchased', data: { total: 9 } },
    { body: { data: { total: 9 } }, status: 400, code: 'request.invalid', field: 'name' }),
  cio('POST /api/v1/events', '/api/v1/events', { name: 'Viewed', anonymous_id: 'a-3', data: {} },
    { body: { name: 'Viewed', anonymous_id: 'a-3', data: 'text' }, status: 400, code: 'request.invalid', field: 'data' }),
  cio('POST /api/v1/merge_customers', '/api/v1/merge_customers', { primary: { id: 'u-1' }, secondary: { id: 'u-merge' } },
    { body: { primary: { id: 'u-1' }, secondary: { id: 'u-1' } }, status: 400, code: 'person.merge_same', field: 'secondary' }),
  cio('PUT /api/v1/customers/:identifier/devices', '/api/v1/customers/u-1/devices', { device: { id: 'dev-2', platform: 'ios' } },
    { body: { device: { id: 'dev-2', platform: 'windows' } }, status: 400, code: 'request.invalid', field: 'device.platform' }),
  // customerio-node sends DELETE with a JSON content type and no body.
  { ...cio('DELETE /api/v1/customers/:identifier/devices/:device_id', '/api/v1/customers/u-1/devices/dev-del', undefined),
    headers: { 'content-type': 'application/json' } },
  cio('POST /api/v2/entity', '/api/v2/entity', { type: 'person', action: 'identify', identifiers: { id: 'u-1' }, attributes: { role: 'admin' } },
    { body: { type: 'person', action: 'identify' }, status: 400, code: 'request.invalid', field: 'identifiers' }),
  cio('POST /api/v2/batch', '/api/v2/batch',
    { batch: [{ type: 'object', action: 'identify', identifiers: { object_type_id: 'company', object_id: 'acme' }, attributes: { name: 'Acme' } }] },
    { body: { batch: 'x' }, status: 400, code: 'request.invalid', field: 'batch' }),

  // Customer.io App API (Bearer app key).
  {
    route: 'GET /v1/customers/:identifier/attributes', path: '/v1/customers/u-1/attributes', auth: 'app', status: 200,
    expect: (s: Seed) => ({ customer: {
      id: 'u-1', identifiers: { id: 'u-1', email: 'ann@example.com', cio_id: s.personId },
      attributes: like({ id: 'u-1', email: 'ann@example.com', cio_id: s.personId, plan: 'pro' }),
      timestamps: { cio_id: NUM }, unsubscribed: false,
      devices: some([{ id: 'dev-1', platform: 'ios', last_used: null, attributes: {} }]),
    } }),
    bad: { path: '/v1/customers/u-1/attributes?id_type=phone', status: 400, code: 'request.invalid', field: 'querystring.id_type' },
  },
  {
    route: 'GET /v1/customers', path: '/v1/customers?email=ANN@example.com', auth: 'app', status: 200,
    expect: (s: Seed) => ({ results: [{ email: 'ann@example.com', id: 'u-1', cio_id: s.personId }] }),
    bad: { path: '/v1/customers', status: 400, code: 'request.invalid', field: 'querystring.email' },
  },

  // Tandem REST API (Bearer app key).
  {
    route: 'GET /api/workspace', auth: 'app', status: 200,
    expect: (s: Seed) => ({ id: s.ws.workspaceId, name: 'Real port', siteId: s.ws.siteId, createdAt: ISO, settings: OBJ }),
  },
  {
    route: 'PATCH /api/workspace', auth: 'app', body: { settings: { postalAddress: '1 Main Street', defaultLocale: 'en' } }, status: 200,
    expect: (s: Seed) => ({
      id: s.ws.workspaceId, name: 'Real port', siteId: s.ws.siteId, createdAt: ISO,
      settings: like({ postalAddress: '1 Main Street', defaultLocale: 'en' }),
    }),
    bad: { body: { settings: { fromAddress: 'not an address' } }, status: 400, code: 'request.invalid', field: 'settings.fromAddress' },
  },
  {
    route: 'GET /api/keys', auth: 'app', status: 200,
    expect: { keys: some(['write', 'track', 'app'].map((k) => like(keyView(k)))) },
  },
  {
    route: 'POST /api/keys', auth: 'app', body: { kind: 'app', name: 'ci' }, status: 201,
    expect: { key: keyView('app', 'ci'), secret: matching(/^tdm_app_/) },
    bad: { body: { kind: 'admin' }, status: 400, code: 'request.invalid', field: 'kind' },
  },
  {
    route: 'POST /api/keys/:id/rotate', path: '/api/keys/{rotateKeyId}/rotate', auth: 'app', status: 200,
    expect: { key: keyView('write', 'to rotate'), secret: matching(/^tdm_wk_/) },
    bad: { path: '/api/keys/key_nope/rotate', status: 404, code: 'key.not_found', field: 'id' },
  },
  {
    route: 'DELETE /api/keys/:id', path: '/api/keys/{revokeKeyId}', auth: 'app', status: 204, expect: '',
    bad: { path: '/api/keys/key_nope', status: 404, code: 'key.not_found', field: 'id' },
  },
  {
    route: 'GET /api/people', path: '/api/people?q=ann', auth: 'app', status: 200,
    expect: (s: Seed) => ({ people: [person(s)], nextCursor: null }),
    bad: { path: '/api/people?limit=0', status: 400, code: 'request.invalid', field: 'querystring.limit' },
  },
  {
    route: 'GET /api/people/:id', path: '/api/people/{personId}', auth: 'app', status: 200,
    expect: (s: Seed) => person(s, {
      identifiers: { userIds: some(['u-1']), anonymousIds: some(['a-1']) },
    }),
    bad: { path: '/api/people/u-1?by=phone', status: 400, code: 'request.invalid', field: 'querystring.by' },
  },
  {
    route: 'GET /api/people/:id/events', path: '/api/people/u-1/events?by=userId&type=track', auth: 'app', status: 200,
    expect: { events: some([{ ...storedEvent, type: 'track', name: 'Signed Up', userId: 'u-1' }]), nextCursor: null },
    bad: { path: '/api/people/u-1/events?by=userId&type=bogus', status: 400, code: 'request.invalid', field: 'querystring.type' },
  },
  {
    route: 'GET /api/people/:id/objects', path: '/api/people/{personId}/objects', auth: 'app', status: 200,
    expect: { objects: [{ type: 'group', id: 'g-1', attributes: { name: 'Acme' }, relationshipAttributes: {},
      createdAt: ISO, updatedAt: ISO, relatedAt: ISO }] },
    bad: { path: '/api/people/{personId}/objects?by=x', status: 400, code: 'request.invalid', field: 'querystring.by' },
  },
  {
    route: 'GET /api/people/:id/export', path: '/api/people/{personId}/export', auth: 'app', status: 200,
    expect: (s: Seed) => ({
      exportedAt: ISO, person: like({ id: s.personId, userId: 'u-1' }),
      identifiers: some([{ kind: 'user', value: 'u-1', createdAt: ISO }]),
      devices: some([like({ deviceId: 'dev-1', platform: 'ios' })]),
      objects: [like({ type: 'group', id: 'g-1' })], suppressions: [],
      events: some([like({ type: 'track', name: 'Signed Up' })]),
    }),
    bad: { path: '/api/people/00000000-0000-4000-8000-000000000000/export', status: 404, code: 'person.not_found', field: 'id' },
  },
  {
    route: 'DELETE /api/people/:id', path: '/api/people/u-del?by=userId', auth: 'app', status: 204, expect: '',
    bad: { path: '/api/people/u-del?by=nope', status: 400, code: 'request.invalid', field: 'querystring.by' },
  },
  {
    route: 'GET /api/objects/:type/:id', path: '/api/objects/group/g-1', auth: 'app', status: 200,
    expect: { type: 'group', id: 'g-1', attributes: { name: 'Acme' }, relationshipCount: 1, createdAt: ISO, updatedAt: ISO },
    bad: { path: '/api/objects/group/nope', status: 404, code: 'object.not_found', field: 'id' },
  },
  {
    route: 'GET /api/event-types', path: '/api/event-types?type=track', auth: 'app', status: 200,
    expect: { eventTypes: some([eventType('track', 'Signed Up')]), nextCursor: null, warnings: [] },
    bad: { path: '/api/event-types?type=bogus', status: 400, code: 'request.invalid', field: 'querystring.type' },
  },
  {
    route: 'GET /api/event-types/:type/:name', path: '/api/event-types/track/Signed%20Up', auth: 'app', status: 200,
    expect: eventType('track', 'Signed Up'),
    bad: { path: '/api/event-types/bogus/Signed%20Up', status: 400, code: 'request.invalid', field: 'params.type' },
  },
  {
    route: 'GET /api/events/stream', path: '/api/events/stream?type=track', auth: 'app', status: 200,
    check: (res) => expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/),
    read: readFirstStreamedEvent,
    expect: (s: Seed) => ({ ...storedEvent, personId: s.personId, type: 'track', name: 'Streamed', userId: 'u-1', source: 'segment' }),
    bad: { path: '/api/events/stream?lastEventId=abc', status: 400, code: 'request.invalid', field: 'querystring.lastEventId' },
  },

  // Content resources (Bearer app key).
  ...(Object.keys(CONTENT) as ContentKind[]).flatMap(contentCases),
  ...renderCases(),
  ...deliveryCases(),
  {
    route: 'POST /api/content/templates/:id/link-check', path: '/api/content/templates/{templateId}/link-check', auth: 'app',
    status: 202, expect: { queued: true },
    bad: { path: '/api/content/templates/tpl_00000000000000000000/link-check', status: 404, code: 'content.not_found', field: 'id' },
  },
  {
    route: 'GET /api/content/templates/:id/link-check', path: '/api/content/templates/{templateId}/link-check', auth: 'app',
    status: 200, expect: { checkedAt: nullOr(ISO), results: ARRAY },
    bad: { path: '/api/content/templates/tpl_00000000000000000000/link-check', status: 404, code: 'content.not_found', field: 'id' },
  },

  // Assets (Bearer app key) and the public files (no key).
  {
    route: 'POST /api/assets', auth: 'app', status: 201,
    body: form({ data: UPLOAD_SVG, filename: 'badge.svg', contentType: 'image/svg+xml' }, { name: 'Badge', folder: 'brand', tags: 'logo,badge' }),
    expect: assetView({ name: 'Badge', contentType: 'image/svg+xml', width: 24, height: 24, folder: 'brand', tags: ['logo', 'badge'] }),
    bad: { body: form({ data: 'not an image', filename: 'a.png', contentType: 'image/png' }), status: 415, code: 'asset.unsupported_type', field: 'file' },
  },
  {
    route: 'POST /api/assets/import', auth: 'app', status: 201,
    body: (s: Seed) => ({ url: `${s.assetFileUrl}?w=100`, folder: 'imported' }),
    expect: (s: Seed) => assetView({
      name: s.assetFile, contentType: 'image/png', width: 100, height: 50, folder: 'imported', sourceUrl: `${s.assetFileUrl}?w=100`,
    }),
    bad: { body: { url: 'http://169.254.169.254/latest/meta-data/' }, status: 400, code: 'net.forbidden_address', field: 'url' },
  },
  {
    route: 'GET /api/assets', path: '/api/assets?folder=seed', auth: 'app', status: 200,
    expect: { assets: [assetView({ name: 'asset-seed', folder: 'seed' })], nextCursor: null },
    bad: { path: '/api/assets?limit=0', status: 400, code: 'request.invalid', field: 'querystring.limit' },
  },
  {
    route: 'GET /api/assets/folders', auth: 'app', status: 200,
    expect: { folders: some([{ folder: 'seed', count: 1 }]) },
  },
  {
    route: 'GET /api/assets/:id', path: '/api/assets/{assetId}', auth: 'app', status: 200,
    expect: (s: Seed) => assetView({ id: s.assetId, hash: s.assetHash, name: 'asset-seed', contentType: 'image/png', width: 200, height: 100 }),
    bad: { path: '/api/assets/ast_00000000000000000000', status: 404, code: 'asset.not_found', field: 'id' },
  },
  {
    route: 'PATCH /api/assets/:id', path: '/api/assets/{assetId}', auth: 'app', body: { alt: 'Seed alt', tags: ['seeded'] }, status: 200,
    expect: (s: Seed) => assetView({ id: s.assetId, alt: 'Seed alt', tags: ['seeded'] }),
    bad: { body: { tags: 'seeded' }, status: 400, code: 'request.invalid', field: 'tags' },
  },
  {
    route: 'GET /api/assets/:id/usage', path: '/api/assets/{assetId}/usage', auth: 'app', status: 200, expect: { usage: [] },
    bad: { path: '/api/assets/ast_00000000000000000000/usage', status: 404, code: 'asset.not_found', field: 'id' },
  },
  {
    route: 'DELETE /api/assets/:id', path: '/api/assets/{assetDeleteId}', auth: 'app', status: 204, expect: '',
    bad: { path: '/api/assets/ast_00000000000000000000', status: 404, code: 'asset.not_found', field: 'id' },
  },
  {
    route: 'GET /assets/:file', path: '/assets/{assetFile}', auth: 'none', status: 200, expect: STR,
    check: (res) => {
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{64}"$/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    },
    bad: { path: '/assets/{assetFile}?w=123', status: 400, code: 'asset.bad_width', field: 'w' },
  },

  // Outbound webhooks.
  {
    route: 'POST /api/webhooks/endpoints', auth: 'app', status: 201,
    body: { url: 'https://hooks.example.com/new', eventTypes: ['message.sent', 'message.delivered'] },
    expect: webhookView({ url: 'https://hooks.example.com/new', eventTypes: ['message.sent', 'message.delivered'], secret: matching(/^whsec_[A-Za-z0-9+/]{32}$/) }),
    bad: { body: { url: 'https://hooks.example.com/new', eventTypes: ['message.nope'] }, status: 400, code: 'webhook.unknown_event_type', field: 'eventTypes[0]' },
  },
  {
    route: 'GET /api/webhooks/endpoints', auth: 'app', status: 200,
    expect: (s: Seed) => ({ endpoints: some([webhookView({ id: s.webhookEndpointId, url: 'https://hooks.example.com/seed' })]), next: null }),
    bad: { path: '/api/webhooks/endpoints?limit=0', status: 400, code: 'request.invalid', field: 'querystring.limit' },
  },
  {
    route: 'GET /api/webhooks/endpoints/:id', path: '/api/webhooks/endpoints/{webhookEndpointId}', auth: 'app', status: 200,
    expect: (s: Seed) => webhookView({ id: s.webhookEndpointId, url: 'https://hooks.example.com/seed', description: 'Seed' }),
    bad: { path: '/api/webhooks/endpoints/wep_00000000000000000000', status: 404, code: 'webhook.endpoint_not_found', field: 'id' },
  },
  {
    route: 'PATCH /api/webhooks/endpoints/:id', path: '/api/webhooks/endpoints/{webhookEndpointId}', auth: 'app', status: 200,
    body: { description: 'Changed', eventTypes: ['consent.changed'] },
    expect: (s: Seed) => webhookView({ id: s.webhookEndpointId, description: 'Changed', eventTypes: ['consent.changed'] }),
    bad: { body: { url: 'http://169.254.169.254/latest' }, status: 400, code: 'net.forbidden_address', field: 'url' },
  },
  {
    route: 'POST /api/webhooks/endpoints/:id/rotate-secret', path: '/api/webhooks/endpoints/{webhookEndpointId}/rotate-secret', auth: 'app', status: 200,
    expect: (s: Seed) => webhookView({ id: s.webhookEndpointId, secret: matching(/^whsec_/) }),
    bad: { path: '/api/webhooks/endpoints/wep_00000000000000000000/rotate-secret', status: 404, code: 'webhook.endpoint_not_found', field: 'id' },
  },
  {
    route: 'POST /api/webhooks/endpoints/:id/test', path: '/api/webhooks/endpoints/{webhookEndpointId}/test', auth: 'app', status: 202,
    expect: { messageId: matching(/^msg_[0-9a-f]{24}$/) },
    bad: { path: '/api/webhooks/endpoints/wep_00000000000000000000/test', status: 404, code: 'webhook.endpoint_not_found', field: 'id' },
  },
  {
    route: 'GET /api/webhooks/endpoints/:id/messages', path: '/api/webhooks/endpoints/{webhookEndpointId}/messages', auth: 'app', status: 200,
    expect: {
      messages: [{
        id: matching(/^msg_/), type: 'webhook.test', createdAt: ISO, status: 'pending', nextAttemptAt: ISO, attempts: [],
        payload: { type: 'webhook.test', timestamp: ISO, data: OBJ },
      }],
    },
    bad: { path: '/api/webhooks/endpoints/{webhookEndpointId}/messages?limit=500', status: 400, code: 'request.invalid', field: 'querystring.limit' },
  },
  {
    route: 'DELETE /api/webhooks/endpoints/:id', path: '/api/webhooks/endpoints/{webhookDeleteId}', auth: 'app', status: 204, expect: '',
    bad: { path: '/api/webhooks/endpoints/wep_00000000000000000000', status: 404, code: 'webhook.endpoint_not_found', field: 'id' },
  },

  ...consentCases(),
  ...trackingCases(),
  ...importCases(),
  ...segmentCases(),

  // Salesforce connector (no call to Salesforce is made by these routes).
  {
    route: 'PUT /api/connectors/salesforce', auth: 'app', status: 200,
    body: { instanceUrl: 'https://acme.my.salesforce.com', clientId: 'consumer-key', clientSecret: 'consumer-secret' },
    expect: {
      instanceUrl: 'https://acme.my.salesforce.com', clientId: 'consumer-key', authFlow: 'client_credentials',
      lastSyncAt: null, lastSyncStatus: null, lastSyncError: null, syncedCount: 0, createdAt: ISO, updatedAt: ISO,
    },
    bad: { body: { instanceUrl: 'http://169.254.169.254', clientId: 'k', clientSecret: 's' }, status: 400, code: 'net.forbidden_address', field: 'instanceUrl' },
  },
  {
    route: 'GET /api/connectors/salesforce', auth: 'app', status: 200,
    expect: {
      instanceUrl: 'https://acme.my.salesforce.com', clientId: 'consumer-key', authFlow: 'client_credentials',
      lastSyncAt: null, lastSyncStatus: null, lastSyncError: null, syncedCount: 0, createdAt: ISO, updatedAt: ISO,
    },
  },
  { route: 'DELETE /api/connectors/salesforce', auth: 'app', status: 204, expect: '' },

  // Operator routes (no key).
  {
    route: 'GET /api/openapi.json', auth: 'none', status: 200,
    expect: like({ openapi: matching(/^3\.1\./), paths: OBJ }),
  },
  {
    route: 'GET /', auth: 'none', status: 200, expect: contains('<a href="/api/openapi.json">'),
    check: (res) => expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8'),
  },
  {
    route: 'GET /docs/:name', path: '/docs/api.md', auth: 'none', status: 200, expect: contains('# '),
    bad: { path: '/docs/..%2Fpackage.json', status: 404, code: 'route.not_found' },
  },
  ...['unsubscribe', 'preferences', 'view-in-browser'].flatMap((name) => ['GET', 'POST'].map((method): Case => ({
    route: `${method} /preview/${name}`, auth: 'none', status: 200, expect: contains('This is a preview'),
  }))),
  { route: 'GET /health/live', auth: 'none', status: 200, expect: { status: 'ok' } },
  { route: 'GET /health/ready', auth: 'none', status: 200, expect: { status: 'ok' } },
  {
    route: 'GET /metrics', auth: 'none', status: 200, expect: contains('# TYPE tandem_http_request_duration_seconds histogram'),
    check: (res) => expect(res.headers.get('content-type')).toContain('text/plain'),
  },
];

// ---------------------------------------------------------------------------------------------

let t: TestTandem;
let seed: Seed;

function credentials(auth: Auth, ws: CreatedWorkspace, wrong = false): Record<string, string> {
  switch (auth) {
    case 'write': return { authorization: basic(wrong ? 'tdm_wk_wrong' : ws.writeKey) };
    case 'track': return { authorization: basic(ws.siteId, wrong ? 'tdm_tk_wrong' : ws.trackApiKey) };
    case 'app': return { authorization: bearer(wrong ? 'tdm_app_wrong' : ws.appApiKey) };
    case 'none': return {};
  }
}

function dialectOf(c: Case): Dialect {
  if (c.auth === 'write') return 'segment';
  if (c.route.includes(' /api/v2/')) return 'customerio-v2';
  if (c.auth === 'track' || c.route.includes(' /v1/customers') || c.route.includes(' /v1/send/')) return 'customerio';
  return 'tandem';
}

function fill(path: string, s: Seed): string {
  return path.replace(/\{(\w+)\}/g, (_, k: string) => {
    const v = s[k as keyof Seed];
    if (typeof v !== 'string') throw new Error(`no seed value {${k}}`);
    return v;
  });
}

async function send(c: Case, opts: { path?: string; body?: unknown; wrongKey?: boolean } = {}): Promise<Response> {
  const [method = 'GET', routePath = ''] = c.route.split(' ');
  const given = 'body' in opts ? opts.body : c.body;
  // A body may depend on the seed (a function of it), and may be a multipart form (FormData).
  const body: unknown = typeof given === 'function' ? (given as (s: Seed) => unknown)(seed) : given;
  const multipart = body instanceof FormData;
  return fetch(`${t.baseUrl}${fill(opts.path ?? c.path ?? routePath, seed)}`, {
    method,
    // A tracked link answers 302: the case checks the redirect itself.
    redirect: 'manual',
    headers: {
      ...credentials(c.auth, seed.ws, opts.wrongKey),
      ...(body === undefined || multipart ? {} : { 'content-type': 'application/json' }),
      ...c.headers,
    },
    // A string is sent as it is (a CSV file); anything else as JSON.
    ...(body === undefined ? {} : { body: multipart || typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

async function bodyOf(res: Response): Promise<unknown> {
  const text = await res.text();
  return text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
}

/** Waits for `: ready`, stores an event through the Segment API, and answers the first streamed event's data. */
async function readFirstStreamedEvent(res: Response): Promise<unknown> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  const until = async (pattern: RegExp): Promise<RegExpExecArray> => {
    for (;;) {
      const m = pattern.exec(buffered);
      if (m) return m;
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${String(pattern)}:\n${buffered}`);
      buffered += value;
    }
  };
  try {
    await until(/^: ready$/m);
    const sent = await fetch(`${t.baseUrl}/v1/track`, {
      method: 'POST', headers: { ...credentials('write', seed.ws), 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'u-1', event: 'Streamed' }),
    });
    expect(sent.status).toBe(200);
    const frame = await until(/^id: (\d+)\nevent: event\ndata: (.*)\n\n/m);
    const data = JSON.parse(frame[2] ?? '') as { id?: string };
    expect(data.id).toBe(frame[1]);
    return data;
  } finally {
    await reader.cancel();
  }
}

function expectError(body: unknown, dialect: Dialect, code: string, field?: string): void {
  const core = { code, message: STR, ...(field === undefined ? {} : { field }) };
  switch (dialect) {
    case 'segment':
      expect(body).toEqual({ success: false, ...core });
      break;
    case 'customerio':
      expect(body).toEqual({ meta: { error: STR, errors: [STR] }, ...core });
      break;
    case 'customerio-v2':
      expect(body).toEqual({ meta: { error: STR, errors: [STR] }, ...core, errors: [{ reason: code, field: field ?? '', message: STR }] });
      break;
    case 'tandem':
      expect(body).toEqual({ error: core });
      break;
  }
}

/** Every route Fastify serves, plus every operation the OpenAPI document lists, as "METHOD /template/{}". */
async function servedRoutes(): Promise<Set<string>> {
  const fastify = registeredRoutes(t.app)
    // Fastify adds a HEAD route for every GET (exposeHeadRoutes); the GET is what gets a case.
    .filter((r) => r.method !== 'HEAD')
    .map((r) => `${r.method} ${templateOf(r.path)}`);
  const doc = await (await fetch(`${t.baseUrl}/api/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
      .map((m) => `${m.toUpperCase()} ${templateOf(path)}`));
  return new Set([...fastify, ...documented]);
}

const key = (route: string): string => {
  const [method = '', path = ''] = route.split(' ');
  return `${method} ${templateOf(path)}`;
};

beforeAll(async () => {
  // Asset import reaches this test's own port on 127.0.0.1; every other private address stays refused.
  t = await createTestTandem({ listen: true, config: { outboundAllowPrivate: ['127.0.0.1/32'] } });
  const ws = await t.services.workspaces.create('Real port');
  const at = new Date();
  const identify = (userId: string, traits: Record<string, unknown> = {}, anonymousId?: string): IncomingEvent =>
    ({ type: 'identify', userId, traits, timestamp: at, ...(anonymousId ? { anonymousId } : {}) });
  await t.services.ingest.ingest(ws.workspaceId, [
    identify('u-1', { email: 'ann@example.com', plan: 'pro' }, 'a-1'),
    { type: 'track', userId: 'u-1', name: 'Signed Up', properties: { plan: 'pro' }, timestamp: at },
    { type: 'group', userId: 'u-1', groupId: 'g-1', objectType: 'group', traits: { name: 'Acme' }, timestamp: at },
    identify('u-gone'), identify('u-supp'), identify('u-merge'), identify('u-del'),
  ], { source: 'api' });
  await t.services.people.setDevice(ws.workspaceId, { userId: 'u-1' }, { id: 'dev-1', platform: 'ios' });
  await t.services.people.setDevice(ws.workspaceId, { userId: 'u-1' }, { id: 'dev-del', platform: 'android' });
  const personId = await t.services.people.find(ws.workspaceId, { userId: 'u-1' });
  if (!personId) throw new Error('seed: u-1 not stored');
  const rotate = await t.services.workspaces.createKey(ws.workspaceId, 'write', 'to rotate');
  const revoke = await t.services.workspaces.createKey(ws.workspaceId, 'write', 'to revoke');
  const content = async (kind: ContentKind, name: string) =>
    (await t.services.content.create(ws.workspaceId, kind, name, CONTENT[kind].body)).id;
  const sender = (isDefault: boolean) => t.services.senders.create(ws.workspaceId, {
    name: 'Relay', channel: 'email', config: { kind: 'smtp', url: 'smtp://127.0.0.1:9?ignoreTLS=true' }, isDefault, ratePerSecond: 10, concurrency: 1,
    inbound: { postmark: { username: 'hooks', password: 'real-port-secret' } },
  });
  seed = {
    senderId: (await sender(false)).id, senderDeleteId: (await sender(false)).id,
    ws, personId, rotateKeyId: rotate.key.id, revokeKeyId: revoke.key.id,
    layoutId: await content('layout', 'layout-seed'), layoutDeleteId: await content('layout', 'layout-delete'),
    componentId: await content('component', 'component-seed'), componentDeleteId: await content('component', 'component-delete'),
    snippetId: await content('snippet', 'snippet-seed'), snippetDeleteId: await content('snippet', 'snippet-delete'),
    templateId: await content('template', 'template-seed'), templateDeleteId: await content('template', 'template-delete'),
    ...await seedAssets(ws.workspaceId),
    ...await seedConsent(ws.workspaceId),
    ...await seedTracking(ws.workspaceId),
    importId: (await t.services.imports.create(ws.workspaceId, { type: 'people' })).id,
    webhookEndpointId: (await t.services.webhooks.create(ws.workspaceId, { url: 'https://hooks.example.com/seed', description: 'Seed', eventTypes: ['*'] })).id,
    webhookDeleteId: (await t.services.webhooks.create(ws.workspaceId, { url: 'https://hooks.example.com/delete', eventTypes: ['*'] })).id,
    ...await (async () => {
      const m = await t.services.devInbox.deliver(ws.workspaceId, {
        channel: 'email', source: 'test', to: 'ann@example.com', from: null, subject: 'Seeded', html: '<p>Hi</p>', text: 'Hi', meta: {},
      });
      return { devInboxId: m.id, devInboxToken: (await t.services.devInbox.htmlUrl(ws.workspaceId, m))?.split('/dev-inbox/')[1] ?? '' };
    })(),
    messageId: (await t.services.db.transaction().execute((tx) => t.services.delivery.enqueue(tx, ws.workspaceId, {
      idempotencyKey: 'seed-message', source: 'transactional', channel: 'email', to: 'ann@example.com', personId: null, templateId: null,
      request: { inline: { subject: 'Seeded', body: '<p>Hi</p>' } }, retain: true,
    }))).message.id,
  };
  await t.services.domains.add(ws.workspaceId, 'delete.example');
  await t.services.segments.create(ws.workspaceId, { key: 'rp-seg', name: 'Pro', definition: { type: 'attribute', path: 'plan', op: 'equals', value: 'pro' } });
  await t.services.segments.create(ws.workspaceId, { key: 'rp-list', name: 'List' });
  await t.services.segments.create(ws.workspaceId, { key: 'rp-del', name: 'To delete' });

});

async function seedConsent(workspaceId: string): Promise<Pick<Seed, 'topicId' | 'topicDeleteId' | 'suppressedAddress' | 'unsubscribeToken' | 'preferencesToken' | 'confirmToken'>> {
  const consent = t.services.consent;
  await t.services.ingest.ingest(workspaceId, [{ type: 'identify', userId: 'u-consent', traits: { email: 'cat@example.com' }, timestamp: new Date() }], { source: 'api' });
  const personId = await t.services.people.find(workspaceId, { userId: 'u-consent' });
  if (!personId) throw new Error('seed: u-consent not stored');
  const topic = await consent.createTopic(workspaceId, { key: 'seed-topic', name: 'Seed topic', default: 'opt_out', channel: 'email' });
  const doomed = await consent.createTopic(workspaceId, { key: 'delete-topic', name: 'Delete me', default: 'opt_in', channel: 'email' });
  await consent.createTopic(workspaceId, { key: 'seed-doi', name: 'Seed double opt-in', default: 'opt_in', channel: 'email', doubleOptIn: true });
  await consent.suppress(workspaceId, 'email', 'seeded@example.com', 'manual', 'admin');
  await consent.suppress(workspaceId, 'email', 'unsuppress@example.com', 'hard_bounce', 'bounce');
  const links = await consent.links(workspaceId, { personId, messageId: 'seed-message' });
  const { confirmUrl } = await consent.subscribe(workspaceId, personId, 'seed-doi', { source: 'form' });
  const token = (url: string | null) => url?.split('/').pop() ?? '';
  return {
    topicId: topic.id, topicDeleteId: doomed.id, suppressedAddress: 'unsuppress@example.com',
    unsubscribeToken: token(links.oneClickUrl), preferencesToken: token(links.preferencesUrl), confirmToken: token(confirmUrl),
  };
}

/** A queued message whose email went through the tracking transform (one tracked link, the pixel). */
async function seedTracking(workspaceId: string): Promise<Pick<Seed, 'clickToken' | 'pixelFile' | 'viewToken'>> {
  const { message } = await t.services.db.transaction().execute((tx) => t.services.delivery.enqueue(tx, workspaceId, {
    idempotencyKey: 'seed-tracking', source: 'transactional', channel: 'email', to: 'ann@example.com', personId: null, templateId: null,
    request: { inline: { subject: 'Tracked', body: '<p>Hi</p>' } }, retain: true,
  }));
  const email = await t.services.tracking.transform(workspaceId, message, {
    from: { address: 'news@example.com' }, subject: 'Tracked', text: '', headers: {}, marketing: false, topic: null, templateVersion: null,
    html: '<html><body><a href="https://example.com/tracked">Tracked</a></body></html>',
  });
  const grab = (re: RegExp) => re.exec(email.html)?.[1] ?? '';
  return {
    clickToken: grab(/\/c\/([^"]+)"/), pixelFile: grab(/\/o\/([^"]+)"/),
    viewToken: (await t.services.tracking.viewUrl(workspaceId, message.id)).split('/').pop() ?? '',
  };
}

async function seedAssets(workspaceId: string): Promise<Pick<Seed, 'assetId' | 'assetDeleteId' | 'assetHash' | 'assetFile' | 'assetFileUrl'>> {
  const kept = await t.services.assets.upload(workspaceId, await makeImage('png', 200, 100, 1), { name: 'asset-seed', folder: 'seed' });
  const doomed = await t.services.assets.upload(workspaceId, await makeImage('png', 20, 20, 2), { name: 'asset-delete' });
  const file = `${kept.asset.hash}.png`;
  return {
    assetId: kept.asset.id, assetDeleteId: doomed.asset.id, assetHash: kept.asset.hash, assetFile: file,
    assetFileUrl: `${t.baseUrl}/assets/${file}`,
  };
}

afterAll(async () => {
  await t.close();
});

describe('every route over a real port', () => {
  it('has a case for every route Fastify serves and /api/openapi.json lists, and no case for a missing route', async () => {
    const served = await servedRoutes();
    const covered = new Set(CASES.map((c) => key(c.route)));
    expect(CASES.length, 'one case per route').toBe(covered.size);
    const missing = [...served].filter((r) => !covered.has(r));
    expect(missing, `routes without a real-port case in test/real-port.test.ts: ${missing.join(', ')}`).toEqual([]);
    const stale = [...covered].filter((r) => !served.has(r));
    expect(stale, `cases for routes that are not served: ${stale.join(', ')}`).toEqual([]);
  });

  describe.each(CASES)('$route', (c) => {
    it(`answers ${c.status} with the documented body`, async () => {
      const res = await send(c);
      if (res.status !== c.status) throw new Error(`${c.route}: ${res.status} ${await res.text()}`);
      c.check?.(res);
      const body = c.read ? await c.read(res, seed) : await bodyOf(res);
      expect(body).toEqual(typeof c.expect === 'function' ? (c.expect as (s: Seed) => unknown)(seed) : c.expect);
    });

    if (c.auth !== 'none') {
      it('answers a wrong key with 401 auth.invalid in its dialect', async () => {
        const res = await send(c, { wrongKey: true });
        expect(res.status).toBe(401);
        expectError(await bodyOf(res), dialectOf(c), 'auth.invalid', 'authorization');
      });
    }

    const bad = c.bad;
    if (bad) {
      it(`answers bad input with ${bad.status} ${bad.code}${bad.field ? ` (${bad.field})` : ''}`, async () => {
        const res = await send(c, { ...(bad.path ? { path: bad.path } : {}), ...('body' in bad ? { body: bad.body } : {}) });
        expect(res.status).toBe(bad.status);
        if (bad.html) {
          expect(res.headers.get('content-type')).toContain('text/html');
          expect(await res.text()).toContain(`data-code="${bad.code}"`);
        } else expectError(await bodyOf(res), dialectOf(c), bad.code, bad.field);
      });
    }
  });
});
