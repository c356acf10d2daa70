// Every route Fastify serves, called with fast-check's hostile input in the body, the query string and
// the path parameters (NUL, unpaired surrogates, any code point, JSON nested thousands deep, odd
// numbers, impossible dates, huge arrays, hostile keys), with valid keys of a real workspace so the
// requests get past authentication: answers >= 500 must be 0. Routes come from Fastify's own table
// (OpenAPI schemas only shape the valid part of a body), so a route added later is walked too.
// Seed: FC_SEED (test/helpers/fc-seed.ts); printed with the figures.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FC_SEED } from './helpers/fc-seed.ts';
import { basic, bearer, createTestTandem, type TestTandem } from './harness.ts';
import { registeredRoutes, templateOf } from './registered-routes.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

/** Requests per route: the whole file stays within a few tens of seconds on a loaded machine. */
const RUNS = Number(process.env.GUARD_RUNS ?? 6);
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const DEEP_MARK = '"\u2063deep\u2063"';

type Schema = Record<string, unknown> & {
  type?: string | string[]; enum?: unknown[]; const?: unknown; properties?: Record<string, Schema>;
  items?: Schema; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[]; format?: string; minItems?: number;
};
interface Operation { parameters?: Array<{ in: string; name: string; schema?: Schema }>; requestBody?: { content?: Record<string, { schema?: Schema }> } }
interface Doc { paths: Record<string, Record<string, Operation>> }

/** A value to plant: JSON (anything JSON.stringify writes) or raw JSON text (what it cannot). */
type Hostile = { json: unknown } | { raw: string };
interface Case { where: 'body' | 'every' | 'nested' | 'query' | 'param' | 'whole'; pick: number; value: Hostile }

const SPECIAL = [
  '\u0000', 'a\u0000b', '\ud800', 'x\udc00', '\udbff\udbff', '0000-01-01T00:00:00Z', '0000-01-01', '-000001-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z', '2024-02-30', '2024-13-01T00:00:00Z', '9999-12-31T23:59:59-14:00', '0001-01-01T00:00:00+01:00',
  'NaN', 'Infinity', '-1', '1e400', '99999999999999999999', '', ' ', '__proto__', 'constructor', '../../etc/passwd', '%00', '{{x}}',
  '{% assign a = (1..8000000) %}', 'javascript:alert(1)', 'a'.repeat(5000),
];
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.oneof(fc.constant('\u0000'), loneSurrogate, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 10 }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 15 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 20 }) },
);
const oddNumber = fc.oneof(
  fc.double(), fc.integer(),
  fc.constantFrom(1e20, -1, 0, -0, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308, 1.5, 5e-324, -253402300800, 253402300800000),
);
const deepText = fc.tuple(fc.integer({ min: 65, max: 3000 }), fc.boolean()).map(([n, arr]) => (arr ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n)));
const hostile: fc.Arbitrary<Hostile> = fc.oneof(
  { weight: 5, arbitrary: hostileString.map((json) => ({ json })) },
  { weight: 2, arbitrary: oddNumber.map((json) => ({ json })) },
  { weight: 2, arbitrary: deepText.map((raw) => ({ raw })) },
  { weight: 1, arbitrary: fc.constantFrom('1e400', '-1e400', `[${Array(10_001).fill(0).join(',')}]`).map((raw) => ({ raw })) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, fc.oneof(hostileString, oddNumber), { maxKeys: 3 }).map((json) => ({ json })) },
  { weight: 1, arbitrary: fc.array(fc.oneof(hostileString, oddNumber), { maxLength: 4 }).map((json) => ({ json })) },
);
const caseArb: fc.Arbitrary<Case> = fc.record({
  where: fc.oneof(
    { weight: 3, arbitrary: fc.constant('body' as const) }, { weight: 3, arbitrary: fc.constant('every' as const) }, { weight: 2, arbitrary: fc.constant('nested' as const) },
    { weight: 2, arbitrary: fc.constant('query' as const) }, { weight: 2, arbitrary: fc.constant('param' as const) },
    { weight: 1, arbitrary: fc.constant('whole' as const) },
  ),
  pick: fc.nat(),
  value: hostile,
});

/** Percent-encoding that can also carry a lone surrogate (as the WTF-8 bytes a client could send). */
function encode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const next = s.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(s.slice(i, i + 2));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else out += encodeURIComponent(s[i]!);
  }
  return out;
}

function asText(v: Hostile): string {
  if ('raw' in v) return v.raw;
  return typeof v.json === 'string' ? v.json : JSON.stringify(v.json) ?? '';
}

/** A plausible valid value for a schema: enough for most bodies to pass validation. */
function sample(s: Schema | undefined, depth = 0): unknown {
  if (!s || depth > 5) return undefined;
  if ('const' in s) return s.const;
  if (s.enum?.length) return s.enum[0];
  const variant = (s.anyOf ?? s.oneOf ?? []).find((v) => v.type !== 'null');
  if (variant) return sample(variant, depth + 1);
  if (s.allOf?.length) return Object.assign({}, ...s.allOf.map((p) => sample(p, depth + 1) as object));
  const type = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  switch (type ?? (s.properties ? 'object' : 'string')) {
    case 'object': return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, p]) => [k, sample(p, depth + 1)]).filter(([, v]) => v !== undefined));
    case 'array': return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => sample(s.items, depth + 1));
    case 'integer': case 'number': return 1;
    case 'boolean': return true;
    default: return s.format === 'email' ? 'guard@example.com' : s.format === 'date-time' ? '2026-01-02T03:04:05.000Z' : 'guard-probe';
  }
}

/**
 * Valid bodies for routes whose schema a generic sample does not satisfy, so that hostile values
 * planted in them reach the route's own code (the places issue 11 found 500s).
 */
const VALID: Record<string, Record<string, unknown>> = {
  'POST /v1/send/email': { to: 'guard@example.com', subject: 'Hi {{ trigger.n }}', body: '<p>Hello</p>', message_data: { n: 1 }, send_at: 1893456000 },
  'POST /v1/send/sms': { to: '+15555550100', body: 'Hello', message_data: { n: 1 } },
  'PATCH /api/workspace': { name: 'Guard', settings: { postalAddress: '1 Main St', defaultLocale: 'en' } },
  'POST /api/keys': { kind: 'app', name: 'probe' },
  'POST /api/segments': { key: 'probe', name: 'Probe', definition: { type: 'attribute', path: 'plan', op: 'equals', value: 'pro' } },
  'POST /api/segments/preview': { definition: { type: 'attribute', path: 'plan', op: 'equals', value: 'pro' }, sample: 5 },
  'POST /api/segments/explain': { definition: { type: 'attribute', path: 'plan', op: 'equals', value: 'pro' }, person: 'u1' },
  'POST /api/senders': { name: 'Probe', channel: 'email', config: { kind: 'smtp', url: 'smtp://mail.example.com:25' } },
  'POST /api/webhooks/endpoints': { url: 'https://hooks.example.com/x', eventTypes: ['*'] },
  'PUT /api/connectors/salesforce': { instanceUrl: 'https://example.my.salesforce.com', clientId: 'x', clientSecret: 'y' },
  'POST /api/suppressions': { channel: 'email', address: 'guard@example.com' },
  'POST /api/domains': { domain: 'example.com' },
  'POST /api/assets/import': { url: 'http://127.0.0.1/a.png' },
  'POST /api/content/templates': { name: 'probe', body: { channel: 'email', marketing: false, email: { subject: 'Hi {{ customer.plan }}', code: '<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section></mj-body></mjml>' } } },
  'POST /api/v1/customers/:identifier/events': { name: 'Probe', data: { n: 1 }, timestamp: 1767225600 },
  'POST /api/v1/events': { name: 'Probe', data: { n: 1 } },
  'PUT /api/v1/customers/:identifier/devices': { device: { id: 'dev1', platform: 'ios' } },
  'POST /api/v1/merge_customers': { primary: { id: 'u1' }, secondary: { id: 'u2' } },
  'POST /api/v2/entity': { type: 'person', action: 'identify', identifiers: { id: 'u1' }, attributes: { plan: 'pro' } },
  'POST /api/v2/batch': { batch: [{ type: 'person', action: 'identify', identifiers: { id: 'u1' }, attributes: { plan: 'pro' } }] },
};

/** The body with every string in it (keys excepted) replaced by `s`. */
function everyString(v: unknown, s: string): unknown {
  if (typeof v === 'string') return s;
  if (Array.isArray(v)) return v.map((x) => everyString(x, s));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, everyString(x, s)]));
  return v;
}

/** The usual shapes of Segment and Customer.io calls, for bodies a route parses itself. */
function genericBody(): Record<string, unknown> {
  const call = { type: 'track', userId: 'u1', event: 'Probe', name: 'Probe', traits: { email: 'guard@example.com' }, properties: { n: 1 }, timestamp: '2026-01-02T03:04:05.000Z' };
  return {
    ...call, id: 'u1', email: 'guard@example.com', identifiers: { id: 'u1' }, attributes: { plan: 'pro' }, data: { n: 1 },
    action: 'identify', groupId: 'g1', previousId: 'u0', batch: [call, { ...call, type: 'identify' }],
  };
}

describe('input guard: hostile input on every route', () => {
  let t: TestTandem;
  let w: CreatedWorkspace;
  let doc: Doc;
  const statuses = new Map<number, number>();
  const serverErrors: string[] = [];
  let requests = 0;
  let routesCovered = 0;

  async function call(method: string, url: string, authorization: string | undefined, body: string | undefined): Promise<{ status: number; text: string }> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 15_000);
    try {
      const res = await fetch(t.baseUrl + url, {
        method, signal: ac.signal, redirect: 'manual',
        headers: { ...(authorization ? { authorization } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body } : {}),
      });
      // A live stream never ends: its status and first bytes are the answer.
      const text = (res.headers.get('content-type') ?? '').startsWith('text/event-stream') ? '' : await res.text();
      return { status: res.status, text };
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
  }

  beforeAll(async () => {
    t = await createTestTandem({ listen: true });
    w = await t.workspace('Guard');
    await t.services.ingest.ingest(w.workspaceId, [
      { type: 'identify', userId: 'u1', traits: { email: 'guard@example.com', plan: 'pro' }, timestamp: new Date('2026-01-02T03:04:05.000Z') },
      { type: 'track', userId: 'u1', name: 'Probe', properties: { n: 1 }, timestamp: new Date('2026-01-02T03:04:05.000Z') },
    ], { source: 'api' });
    doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<Doc>();
  });
  afterAll(async () => { await t?.close(); });

  it('answers no request with a status >= 500', async () => {
    const ops = new Map<string, Operation>();
    for (const [path, item] of Object.entries(doc.paths)) for (const [m, op] of Object.entries(item)) ops.set(`${m.toUpperCase()} ${templateOf(path)}`, op);
    const routes = registeredRoutes(t.app).filter((r) => METHODS.has(r.method));
    const credentials = [bearer(w.appApiKey), basic(w.writeKey), basic(w.siteId, w.trackApiKey), undefined];
    const started = Date.now();
    const prepared: Array<{ name: string; method: string; build: (c: Case | undefined) => { url: string; body: string | undefined }; auth: string | undefined }> = [];

    for (const route of routes) {
      const op = ops.get(`${route.method} ${templateOf(route.path)}`);
      const params = [...route.path.matchAll(/:([A-Za-z0-9_]+)|\*/g)].map((m) => m[1] ?? '*');
      const paramSchema = (n: string) => op?.parameters?.find((p) => p.in === 'path' && p.name === n)?.schema;
      const queryNames = [...new Set([...(op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name), 'q', 'limit', 'cursor', 'email', 'since', 'until'])];
      const bodySchema = op?.requestBody?.content?.['application/json']?.schema;
      const hasBody = !['GET', 'DELETE', 'OPTIONS'].includes(route.method);
      const base = (): Record<string, unknown> => {
        const known = VALID[`${route.method} ${route.path}`];
        if (known) return structuredClone(known);
        const s = bodySchema ? sample(bodySchema) : undefined;
        return s && typeof s === 'object' && !Array.isArray(s) ? s as Record<string, unknown> : genericBody();
      };
      const validParam = (n: string): string => {
        const v = sample(paramSchema(n));
        return typeof v === 'string' && v !== 'guard-probe' ? v : typeof v === 'number' ? String(v) : 'u1';
      };

      const fill = (values: Record<string, string>, query: URLSearchParams): string => {
        const url = route.path.replace(/:([A-Za-z0-9_]+)|\*/g, (_m, n: string | undefined) => values[n ?? '*'] ?? 'u1');
        // URLSearchParams would re-encode a lone surrogate as U+FFFD: write the query by hand.
        const qs = [...query.entries()].map(([k, v]) => `${encodeURIComponent(k)}=${encode(v)}`).join('&');
        return qs ? `${url}?${qs}` : url;
      };
      const build = (c: Case | undefined): { url: string; body: string | undefined } => {
        const values = Object.fromEntries(params.map((n) => [n, encode(validParam(n))]));
        const query = new URLSearchParams();
        let body: string | undefined = hasBody ? JSON.stringify(base()) : undefined;
        const required = (op?.parameters ?? []).filter((p) => p.in === 'query' && (p as { required?: boolean }).required);
        for (const p of required) query.set(p.name, p.name.includes('email') ? 'guard@example.com' : String(sample(p.schema) === 'guard-probe' ? 'u1' : sample(p.schema)));
        if (!c) return { url: fill(values, query), body };
        const where = c.where === 'param' && params.length === 0 ? 'query' : c.where;
        if (where === 'param') values[params[c.pick % params.length]!] = encode(asText(c.value));
        else if (where === 'query' || !hasBody) query.set(queryNames[c.pick % queryNames.length]!, asText(c.value));
        else if (where === 'every') body = JSON.stringify(everyString(base(), asText(c.value)));
        else if (where === 'whole') body = 'raw' in c.value ? c.value.raw : JSON.stringify(c.value.json);
        else {
          const b = base();
          const keys = Object.keys(b).length ? Object.keys(b) : ['name'];
          const key = keys[c.pick % keys.length]!;
          const inner = b[key];
          if (where === 'nested' && Array.isArray(inner) && inner[0] && typeof inner[0] === 'object') (inner[0] as Record<string, unknown>)[key] = '\u2063deep\u2063';
          else if (where === 'nested' && inner && typeof inner === 'object') (inner as Record<string, unknown>)[`k${c.pick % 7}`] = '\u2063deep\u2063';
          else b[key] = '\u2063deep\u2063';
          body = JSON.stringify(b).replace(DEEP_MARK, 'raw' in c.value ? c.value.raw : JSON.stringify(c.value.json) ?? 'null');
        }
        return { url: fill(values, query), body };
      };

      // The credential the route takes: the first that is not refused as missing or invalid.
      let auth: string | undefined;
      for (const cred of credentials) {
        const probe = build(undefined);
        const res = await call(route.method, probe.url, cred, probe.body);
        requests++;
        if (res.status !== 401 && res.status !== 403) { auth = cred; break; }
      }
      prepared.push({ name: `${route.method} ${route.path}`, method: route.method, build, auth });
    }
    // One property over all routes, each taking its turn: every route gets RUNS cases, and the cases
    // differ from route to route (one seed drives the whole walk).
    let turn = 0;
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      const route = prepared[turn++ % prepared.length]!;
      const { url, body } = route.build(c);
      const res = await call(route.method, url, route.auth, body);
      requests++;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) serverErrors.push(`${route.name}: ${url.slice(0, 200)} ${body?.slice(0, 300) ?? ''} -> ${res.status} ${res.text.slice(0, 200)}`);
    }), { numRuns: prepared.length * RUNS });
    routesCovered = new Set(prepared.slice(0, Math.min(turn, prepared.length)).map((r) => r.name)).size;
    const summary = `input guard property: ${routesCovered} routes, ${requests} requests, ${serverErrors.length} answers >= 500, ` +
      `FC_SEED=${FC_SEED}, ${((Date.now() - started) / 1000).toFixed(1)} s, statuses ${JSON.stringify(Object.fromEntries(statuses))}`;
    console.log(summary);
    expect(routesCovered).toBe(routes.length);
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['POST /v1/batch', 'PUT /api/v1/customers/:identifier', 'POST /v1/send/email']));
    expect(serverErrors, `${summary}\nreplay: FC_SEED=${FC_SEED} npx vitest run test/input-guard-property.test.ts`).toEqual([]);
  }, 600_000);
});
