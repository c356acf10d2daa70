// RELIABILITY 14: every route, called with workspace A's credentials and workspace B's ids,
// answers nothing of B and changes nothing of B. Routes are discovered (OpenAPI document plus
// Fastify's own route table), so routes that other modules add later are walked too. Ids go in paths,
// queries and bodies; bodies that carry actions (Customer.io v1/v2 operations, Segment calls) are sent
// once per action the parser accepts (its own lists), each with B's identifiers, and every action must
// have been accepted at least once: a walker that only earns 400s proves nothing. (Removing the
// workspace filter from Customer.io object deletes passed this file when it varied only paths.)
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, createTestTandem, type TestTandem } from './harness.ts';
import { registeredRoutes, templateOf } from './registered-routes.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';
import { OBJECT_ACTIONS, PERSON_ACTIONS } from '../src/modules/customerio/index.ts';
import { SEGMENT_KINDS } from '../src/modules/segment/index.ts';

type Schema = Record<string, unknown> & {
  type?: string | string[]; enum?: unknown[]; const?: unknown; properties?: Record<string, Schema>; required?: string[];
  items?: Schema; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[]; $ref?: string; format?: string;
  pattern?: string; minimum?: number; minItems?: number; maxLength?: number;
};
interface Param { in: string; name: string; required?: boolean; schema?: Schema }
interface Operation { parameters?: Param[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }
interface Doc { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } }
interface RouteCase { method: string; path: string; op: Operation | undefined }
interface Sent { route: string; method: string; url: string; body: unknown; status: number; text: string; auth: string }
/** A request to make; `action` names the body's action when the route's body is one of several shapes. */
interface Variant { url: string; body: unknown; action?: string }

/** Operator routes without workspace data (and the document itself). */
const SKIP = new Set(['/api/openapi.json', '/health/live', '/health/ready', '/metrics']);
const WRITE = new Set(['POST', 'PUT', 'PATCH']);
const MAX_VARIANTS = 48;
const STREAM_VARIANTS = 3;
const rand = () => randomBytes(5).toString('hex');
const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

describe('workspace isolation: A\'s credentials with B\'s ids', () => {
  let t: TestTandem;
  let a: CreatedWorkspace;
  let b: CreatedWorkspace;
  const r = rand();
  const B = {
    id: randomUUID(), user: `b-user-${r}`, email: `b-${r}@b-workspace.example`, anon: `b-anon-${r}`,
    objectType: `btype${r}`, objectId: `b-object-${r}`, deviceId: `b-device-${r}`, suppressed: `b-suppressed-${r}`,
    user2: `b-user2-${r}`, eventName: `B Event ${r}`, keyIds: [] as string[],
  };
  /** Strings of B that A never sends: they may appear in no response to A. */
  const canaries = [`b-canary-attr-${r}`, `b-canary-event-${r}`, `b-canary-object-${r}`, `b-canary-device-${r}`,
    `b-canary-trait-${r}`, `b-canary-prop-${r}`, `+1555${r.replace(/\D/g, '7').slice(0, 6)}`];
  const liveCanary = `b-canary-live-${r}`;
  const aProbe = `a-live-probe-${r}`;
  const sent: Sent[] = [];
  const leaks: string[] = [];
  let streamProbeSeen = false;
  let bSnapshot: string;
  let doc: Doc;

  const identifiers = () => [B.id, B.user, B.email, B.anon, B.objectId, B.deviceId, B.suppressed, B.user2, B.eventName, ...B.keyIds];

  async function dump(ws: string): Promise<string> {
    const tables = await sql<{ table_name: string }>`SELECT DISTINCT table_name FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name = 'workspace_id' ORDER BY table_name`.execute(t.services.db);
    const parts: string[] = [];
    for (const { table_name } of tables.rows) {
      const rows = await sql<{ j: string }>`SELECT (to_jsonb(x) - 'last_used_at')::text AS j FROM ${sql.table(table_name)} x
        WHERE x.workspace_id = ${ws} ORDER BY 1`.execute(t.services.db);
      parts.push(`${table_name}: ${rows.rows.map((row) => row.j).join('\n')}`);
    }
    const w = await sql<{ j: string }>`SELECT to_jsonb(w)::text AS j FROM workspaces w WHERE id = ${ws}`.execute(t.services.db);
    return [...parts, ...w.rows.map((row) => row.j)].join('\n');
  }

  /** Compare B with the last checkpoint (nothing A did may change B), then take a new one. */
  async function checkpointB(): Promise<void> {
    const now = await dump(b.workspaceId);
    expect(now, 'workspace B\'s rows changed while A was calling').toBe(bSnapshot);
    bSnapshot = now;
  }

  async function seed(): Promise<void> {
    const db = t.services.db;
    const at = new Date('2026-01-02T03:04:05.000Z');
    await db.insertInto('people').values({
      workspace_id: b.workspaceId, id: B.id, external_id: B.user, email: B.email, phone: canaries[6]!, identified: true,
      attributes: JSON.stringify({ name: canaries[0], plan: 'secret' }), created_at: at, updated_at: at,
    }).execute();
    await db.insertInto('person_identifiers').values([
      { workspace_id: b.workspaceId, kind: 'user', value: B.user, person_id: B.id },
      { workspace_id: b.workspaceId, kind: 'anonymous', value: B.anon, person_id: B.id },
    ]).execute();
    await db.insertInto('events').values({
      workspace_id: b.workspaceId, person_id: B.id, type: 'track', name: B.eventName, user_id: B.user,
      properties: JSON.stringify({ secret: canaries[1] }), context: '{}', source: 'api', timestamp: at, received_at: at,
    }).execute();
    await db.insertInto('objects').values({
      workspace_id: b.workspaceId, object_type: B.objectType, object_id: B.objectId,
      attributes: JSON.stringify({ name: canaries[2] }), created_at: at, updated_at: at,
    }).execute();
    await db.insertInto('object_relationships').values({
      workspace_id: b.workspaceId, person_id: B.id, object_type: B.objectType, object_id: B.objectId, attributes: '{}', created_at: at, updated_at: at,
    }).execute();
    await db.insertInto('devices').values({
      workspace_id: b.workspaceId, person_id: B.id, device_id: B.deviceId, platform: 'ios',
      attributes: JSON.stringify({ model: canaries[3] }), created_at: at, updated_at: at,
    }).execute();
    await db.insertInto('person_suppressions').values({ workspace_id: b.workspaceId, kind: 'user', value: B.suppressed }).execute();
    // Through the pipeline too, so that derived rows (catalog, dedupe) exist for B.
    await t.services.ingest.ingest(b.workspaceId, [
      { type: 'identify', userId: B.user2, traits: { email: `x${B.email}`, secret: canaries[4] }, timestamp: at, messageId: `b-msg-${r}` },
      { type: 'track', userId: B.user2, name: B.eventName, properties: { secret: canaries[5] }, timestamp: at },
    ], { source: 'api' });
    await t.services.ingest.ingest(a.workspaceId, [
      { type: 'identify', userId: 'a-user', traits: { name: 'A person' }, timestamp: at },
      { type: 'track', userId: 'a-user', name: 'A Event', properties: { n: 1 }, timestamp: at },
    ], { source: 'api' });
    B.keyIds = (await t.services.workspaces.listKeys(b.workspaceId)).map((k) => k.id);
  }

  // ---- request generation -------------------------------------------------------------------

  function resolveRef(s: Schema): Schema {
    if (!s.$ref) return s;
    return doc.components?.schemas?.[s.$ref.split('/').pop() ?? ''] ?? {};
  }

  /** A value for a named string field: the kind of id the name asks for, else the theme id. */
  function stringFor(name: string, s: Schema, theme: string): string {
    const n = name.toLowerCase();
    let v = theme;
    if (s.format === 'email' || n.includes('email')) v = B.email;
    else if (s.format === 'date-time' || /(^|_)(at|time|timestamp|date)$|timestamp/.test(n)) v = '2026-01-02T03:04:05.000Z';
    else if (n.includes('anonymous')) v = B.anon;
    else if (/type$/.test(n)) v = B.objectType;
    else if (/group|object_?id/.test(n)) v = B.objectId;
    else if (/device|token/.test(n)) v = B.deviceId;
    else if (/^(event|name|title|summary)$/.test(n)) v = theme === B.eventName ? theme : 'Isolation probe';
    else if (s.format === 'uuid') v = B.id;
    if (s.pattern && !new RegExp(s.pattern, 'u').test(v)) v = ['0', '1', 'x', theme].find((c) => new RegExp(s.pattern!, 'u').test(c)) ?? v;
    return s.maxLength !== undefined ? v.slice(0, s.maxLength) : v;
  }

  function sample(s0: Schema, name: string, theme: string, pick: number, depth = 0): unknown {
    const s = resolveRef(s0);
    if (depth > 6) return undefined;
    if ('const' in s) return s.const;
    if (s.enum?.length) return s.enum[pick % s.enum.length];
    const variants = (s.anyOf ?? s.oneOf ?? []).filter((v) => resolveRef(v).type !== 'null');
    if (variants.length) return sample(variants[pick % variants.length]!, name, theme, pick, depth + 1);
    if (s.allOf?.length) return Object.assign({}, ...s.allOf.map((p) => sample(p, name, theme, pick, depth + 1) as object));
    const type = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
    switch (type ?? (s.properties ? 'object' : 'string')) {
      case 'object': {
        const out: Record<string, unknown> = {};
        for (const [k, p] of Object.entries(s.properties ?? {})) {
          const v = sample(p, k, theme, pick, depth + 1);
          if (v !== undefined) out[k] = v;
        }
        return out;
      }
      case 'array': return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => sample(s.items ?? {}, name, theme, pick, depth + 1));
      case 'integer': case 'number': return s.minimum ?? 1;
      case 'boolean': return true;
      case 'null': return null;
      default: return stringFor(name, s, theme);
    }
  }

  /** For bodies a route parses itself (no schema): the usual shapes of Segment and Customer.io calls. */
  function genericBody(theme: string, pick: number): Record<string, unknown> {
    const call = (type: string) => ({
      type, userId: theme, anonymousId: B.anon, previousId: theme, groupId: B.objectId, event: 'Isolation probe', name: 'Isolation probe',
      traits: { email: B.email }, properties: {}, timestamp: '2026-01-02T03:04:05.000Z',
    });
    const types = ['identify', 'track', 'page', 'screen', 'group', 'alias'];
    return {
      ...call(types[pick % types.length]!), id: theme, email: B.email, identifiers: { id: theme, email: B.email },
      primary: { id: theme }, secondary: { email: B.email }, attributes: { probe: true }, data: { probe: true },
      batch: types.map(call),
    };
  }

  // ---- bodies that carry actions ---------------------------------------------------------------

  const unix = 1767323045; // 2026-01-02T03:04:05Z
  /** Customer.io identifiers naming B's person, in each spelling (the id, the email, the cio_id). */
  const cioWho = () => [{ id: B.user }, { email: B.email }, { cio_id: B.id }];
  const objectIds = () => ({ object_type_id: B.objectType, object_id: B.objectId });

  /** One Customer.io v2 operation for every (type, action) the parser accepts, with B's identifiers. */
  function v2Operations(): Array<{ action: string; op: Record<string, unknown> }> {
    const out: Array<{ action: string; op: Record<string, unknown> }> = [];
    for (const action of PERSON_ACTIONS) {
      for (const identifiers of cioWho()) {
        const op: Record<string, unknown> = { type: 'person', action, identifiers, timestamp: unix };
        if (action === 'identify') op.attributes = { probe: true, anonymous_id: B.anon };
        if (action === 'identify_anonymous') { delete op.identifiers; op.anonymous_id = B.anon; op.attributes = { probe: true }; }
        if (['event', 'page', 'screen'].includes(action)) Object.assign(op, { name: B.eventName, id: `b-msg-${r}`, attributes: { probe: true } });
        if (action.endsWith('_relationships')) op.cio_relationships = [{ identifiers: objectIds(), relationship_attributes: { probe: true } }];
        if (action === 'add_device') op.device = { token: B.deviceId, platform: 'ios' };
        if (action === 'delete_device') op.device = { token: B.deviceId };
        if (action === 'merge') { delete op.identifiers; Object.assign(op, { primary: identifiers, secondary: { id: B.user2 } }); }
        out.push({ action: `person ${action}`, op });
      }
    }
    for (const action of OBJECT_ACTIONS) {
      const op: Record<string, unknown> = { type: 'object', action, identifiers: objectIds(), attributes: { probe: true } };
      if (action !== 'delete') {
        op.cio_relationships = action === 'identify_anonymous'
          ? [{ identifiers: { anonymous_id: B.anon } }]
          : [{ identifiers: { id: B.user }, relationship_attributes: { probe: true } }];
      }
      out.push({ action: `object ${action}`, op });
    }
    return out;
  }

  /** A Segment call of each kind, every id field B's. */
  function segmentCall(kind: string): Record<string, unknown> {
    return {
      type: kind, userId: B.user, anonymousId: B.anon, previousId: B.user2, groupId: B.objectId, messageId: `b-msg-${r}`,
      event: B.eventName, name: B.eventName, traits: { email: B.email, probe: true }, properties: { probe: true }, timestamp: '2026-01-02T03:04:05.000Z',
    };
  }

  /**
   * The bodies of routes that take several shapes, one per action, keyed by "METHOD /path template".
   * A route listed here is walked with these bodies (besides its path and query variants).
   */
  function shapedBodies(): Record<string, Array<{ action: string; body: unknown }>> {
    const ops = v2Operations();
    const customer = `/api/v1/customers/{}`;
    return {
      'POST /api/v2/entity': ops.map(({ action, op }) => ({ action, body: op })),
      'POST /api/v2/batch': [
        { action: 'batch of every operation', body: { batch: ops.map((o) => o.op) } },
        ...ops.map(({ action, op }) => ({ action: `batch: ${action}`, body: { batch: [op] } })),
      ],
      [`PUT ${customer}`]: [
        { action: 'identify', body: { probe: true, anonymous_id: B.anon, id: B.user2 } },
        { action: 'identify _update', body: { probe: true, _update: true } },
        { action: 'add_relationships', body: { cio_relationships: { action: 'add_relationships', relationships: [{ identifiers: objectIds() }] } } },
        { action: 'delete_relationships', body: { cio_relationships: { action: 'delete_relationships', relationships: [{ identifiers: objectIds() }] } } },
      ],
      [`POST ${customer}/events`]: ['event', 'page', 'screen'].map((type) => ({ action: type, body: { type, name: B.eventName, id: `b-msg-${r}`, data: { probe: true }, timestamp: unix } })),
      'POST /api/v1/events': ['event', 'page', 'screen'].map((type) => ({ action: `anonymous ${type}`, body: { type, name: B.eventName, anonymous_id: B.anon, data: { recipient: B.email } } })),
      'POST /api/v1/merge_customers': cioWho().map((primary) => ({ action: `merge by ${Object.keys(primary)[0]}`, body: { primary, secondary: { id: B.user2 } } })),
      [`PUT ${customer}/devices`]: [{ action: 'add_device', body: { device: { id: B.deviceId, platform: 'ios', attributes: { probe: true } } } }],
      ...Object.fromEntries(SEGMENT_KINDS.map((kind) => [`POST /v1/${kind}`, [{ action: kind, body: segmentCall(kind) }]])),
      ...Object.fromEntries(['/v1/batch', '/v1/import'].map((path) => [`POST ${path}`, [
        { action: 'every kind', body: { batch: SEGMENT_KINDS.map(segmentCall) } },
        ...SEGMENT_KINDS.map((kind) => ({ action: kind, body: { batch: [segmentCall(kind)] } })),
      ]])),
    };
  }

  function variants(rc: RouteCase): Variant[] {
    const params = (rc.op?.parameters ?? []);
    const pathNames = [...rc.path.matchAll(/\{([^}]+)\}|:([A-Za-z0-9_]+)|\*/g)].map((m) => m[1] ?? m[2] ?? '*');
    const pathParam = (n: string) => params.find((p) => p.in === 'path' && p.name === n)?.schema ?? {};
    const queryParams = params.filter((p) => p.in === 'query');
    // Axes of small enumerations: enum path/query params and untyped ":type" params.
    const axes: Array<{ where: 'path' | 'query'; name: string; values: unknown[] }> = [];
    for (const n of pathNames) {
      const s = resolveRef(pathParam(n));
      if (s.enum?.length) axes.push({ where: 'path', name: n, values: s.enum });
      else if (/type$/i.test(n)) axes.push({ where: 'path', name: n, values: [B.objectType, 'track'] });
    }
    for (const p of queryParams) {
      const s = resolveRef(p.schema ?? {});
      if (s.enum?.length) axes.push({ where: 'query', name: p.name, values: [undefined, ...s.enum] });
    }
    const combos = axes.reduce<Array<Record<string, unknown>>>((acc, axis) =>
      acc.flatMap((c) => axis.values.map((v) => ({ ...c, [`${axis.where}:${axis.name}`]: v }))), [{}]);
    const themes = identifiers();
    const all: Variant[] = [];
    themes.forEach((theme, ti) => combos.forEach((combo, ci) => {
      const pick = ti + ci;
      let url = rc.path;
      for (const n of pathNames) {
        const v = combo[`path:${n}`] ?? (n === '*' ? theme : stringFor(n, resolveRef(pathParam(n)), theme));
        url = url.replace(n === '*' ? '*' : new RegExp(`\\{${n}\\}|:${n}\\b`), encodeURIComponent(str(v)));
      }
      const qs = new URLSearchParams();
      for (const p of queryParams) {
        const s = resolveRef(p.schema ?? {});
        const fromCombo = combo[`query:${p.name}`];
        if (s.enum?.length) { if (fromCombo !== undefined) qs.set(p.name, str(fromCombo)); continue; }
        const identityish = /email|user|id$|anonymous|^q$|search|name|customer|person|object|group|device/i.test(p.name);
        if ((p.required || (identityish && ti % 2 === 1)) && ['string', undefined].includes(s.type as string | undefined)) {
          qs.set(p.name, p.name === 'q' || p.name === 'search' ? theme : stringFor(p.name, s, theme));
        } else if (p.required) qs.set(p.name, str(sample(s, p.name, theme, pick)));
      }
      const query = qs.toString();
      const bodySchema = rc.op?.requestBody?.content?.['application/json']?.schema;
      const body = bodySchema ? sample(bodySchema, 'body', theme, pick) : WRITE.has(rc.method) ? genericBody(theme, pick) : undefined;
      all.push({ url: query ? `${url}?${query}` : url, body });
    }));
    // Spread the cap over themes and combinations rather than keeping the first few.
    const step = Math.max(1, Math.ceil(all.length / MAX_VARIANTS));
    const spread = all.filter((_, i) => i % step === 0);
    // Every action of a shaped body is sent, each on one of the URLs above in turn.
    const shaped = shapedBodies()[`${rc.method} ${templateOf(rc.path)}`] ?? [];
    return [...shaped.map((s, i) => ({ url: spread[i % spread.length]!.url, body: s.body, action: s.action })), ...spread];
  }

  // ---- calling --------------------------------------------------------------------------------

  const auths = (w: CreatedWorkspace): Record<string, string> => ({
    app: bearer(w.appApiKey), write: basic(w.writeKey), track: basic(w.siteId, w.trackApiKey),
  });

  async function call(method: string, url: string, authorization: string, body: unknown, probeStream = true): Promise<{ status: number; text: string; stream: boolean }> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 10_000);
    try {
      const res = await fetch(t.baseUrl + url, {
        method, signal: ac.signal, redirect: 'manual',
        headers: { authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || !res.body) {
        return { status: res.status, text: await res.text(), stream: false };
      }
      // A live stream never ends: read it for a while, with a B event and an A event published meanwhile.
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let text = '';
      // One read is kept pending across waits: a read abandoned at a timeout would swallow the next chunk.
      let pending: ReturnType<typeof reader.read> | undefined;
      const readFor = async (ms: number, until?: string) => {
        const deadline = Date.now() + ms;
        while (until === undefined || !text.includes(until)) {
          const left = deadline - Date.now();
          if (left <= 0) return;
          pending ??= reader.read();
          const next = await Promise.race([pending, new Promise<null>((ok) => setTimeout(() => ok(null), left))]);
          if (next === null) return;
          pending = undefined;
          if (next.done) return;
          text += decoder.decode(next.value as Uint8Array, { stream: true });
        }
      };
      // The stream says ": ready" once its subscription is live; otherwise give it a moment.
      await readFor(2000, ': ready');
      if (!probeStream) return { status: res.status, text, stream: true };
      await checkpointB();
      const at = new Date('2026-01-02T03:04:05.000Z');
      await t.services.ingest.ingest(b.workspaceId, [{ type: 'track', userId: B.user, name: B.eventName, properties: { live: liveCanary }, timestamp: at }], { source: 'api' });
      bSnapshot = await dump(b.workspaceId);
      await t.services.ingest.ingest(a.workspaceId, [{ type: 'track', userId: 'a-user', name: 'A Event', properties: { live: aProbe }, timestamp: at }], { source: 'api' });
      await readFor(500);
      if (text.includes(aProbe)) streamProbeSeen = true;
      return { status: res.status, text, stream: true };
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
  }

  // A's rows as text, re-read after any call that may have written.
  let aDump: string | undefined;
  async function aContains(s: string): Promise<boolean> {
    aDump ??= await dump(a.workspaceId);
    return aDump.includes(s);
  }

  /** Calls, then judges the answer at once (against A's rows as they are now). */
  async function send(route: string, method: string, v: Variant, auth: string, header: string): Promise<{ status: number; stream: boolean }> {
    const res = await call(method, v.url, header, v.body);
    if (method !== 'GET') aDump = undefined;
    const s: Sent = { route, method, url: v.url, body: v.body, status: res.status, text: res.text, auth };
    sent.push(s);
    if (v.action !== undefined && res.status !== 401 && res.status !== 403) {
      const key = `${method} ${templateOf(route.slice(method.length + 1))} ${v.action}`;
      actions.set(key, [...(actions.get(key) ?? []), res.status]);
    }
    await check(s);
    if (res.stream) aDump = undefined;
    if (s.status >= 500) serverErrors.push(`${s.method} ${s.url} (${s.auth}) -> ${s.status} ${s.text.slice(0, 200)}`);
    return res;
  }

  async function check(s: Sent): Promise<void> {
    const request = `${decodeURIComponent(s.url)} ${JSON.stringify(s.body ?? null)}`;
    for (const c of [...canaries, liveCanary, b.workspaceId, b.siteId, b.writeKey, b.trackApiKey, b.appApiKey]) {
      if (s.text.includes(c)) leaks.push(`${s.method} ${s.url} (${s.auth}) -> ${s.status} contains B's ${c}`);
    }
    for (const id of identifiers()) {
      // A may echo what it sent, and show rows of its own that happen to carry the same string.
      if (s.text.includes(id) && !request.includes(id) && !(await aContains(id))) {
        leaks.push(`${s.method} ${s.url} (${s.auth}) -> ${s.status} contains B's id ${id}`);
      }
    }
  }

  function routeCases(): RouteCase[] {
    const cases = new Map<string, RouteCase>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(item)) {
        if (['get', 'post', 'put', 'patch', 'delete'].includes(m)) cases.set(`${m.toUpperCase()} ${templateOf(path)}`, { method: m.toUpperCase(), path, op });
      }
    }
    // Routes hidden from the document are walked too, without schemas.
    for (const rt of registeredRoutes(t.app)) {
      const key = `${rt.method} ${templateOf(rt.path)}`;
      if (['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(rt.method) && !cases.has(key)) cases.set(key, { method: rt.method, path: rt.path, op: undefined });
    }
    return [...cases.values()].filter((c) => !SKIP.has(c.path));
  }

  const accepted = new Map<string, string[]>();
  /** "route action" -> the statuses it was answered with (A's usable credentials only). */
  const actions = new Map<string, number[]>();
  /** Routes after which B's rows were found changed. */
  const bChangedBy: string[] = [];
  const serverErrors: string[] = [];
  const revealedToB = new Set<string>();

  beforeAll(async () => {
    t = await createTestTandem({ listen: true });
    a = await t.workspace('A');
    b = await t.workspace('B');
    await seed();
    doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<Doc>();
    bSnapshot = await dump(b.workspaceId);

    const cases = routeCases();
    for (const rc of cases) {
      const route = `${rc.method} ${rc.path}`;
      const list = variants(rc);
      const credentials = auths(a);
      // Probe which of A's credentials the route takes with the first variant; use those for the rest.
      const usable: string[] = [];
      let streaming = false;
      for (const [name, header] of Object.entries(credentials)) {
        const res = await send(route, rc.method, list[0]!, name, header);
        if (res.status !== 401 && res.status !== 403) usable.push(name);
        streaming ||= res.stream;
      }
      accepted.set(route, usable);
      for (const v of list.slice(1, streaming ? STREAM_VARIANTS : undefined)) {
        for (const name of usable) await send(route, rc.method, v, name, credentials[name]!);
      }
      if (rc.method !== 'GET') {
        const now = await dump(b.workspaceId);
        if (now !== bSnapshot) bChangedBy.push(route);
        bSnapshot = now;
      }
    }
    await checkpointB();

    // Control: the same reads with B's own key do reach B's rows, so the ids above were real.
    for (const rc of cases.filter((c) => c.method === 'GET')) {
      for (const v of variants(rc).slice(0, 24)) {
        const res = await call('GET', v.url, auths(b).app!, undefined, false);
        if (canaries.some((c) => res.text.includes(c))) revealedToB.add(`GET ${templateOf(rc.path)}`);
      }
    }
  }, 300_000);
  afterAll(async () => { await t?.close(); });

  it('walked every route, with A\'s credentials accepted', () => {
    const routes = [...accepted.keys()];
    expect(routes).toEqual(expect.arrayContaining(['GET /api/people/{id}', 'DELETE /api/people/{id}', 'GET /api/objects/{type}/{id}']));
    expect(accepted.get('GET /api/people/{id}')).toEqual(['app']);
    expect(sent.length).toBeGreaterThan(routes.length * 3);
  });

  it('answers nothing of B', () => {
    expect(leaks).toEqual([]);
  });

  it('changes nothing of B (writes land in A)', async () => {
    expect(bChangedBy, 'routes after which B\'s rows had changed').toEqual([]);
    await checkpointB();
  });

  it('sent every action of every body shape with B\'s ids, and each was accepted at least once', () => {
    const shapes = shapedBodies();
    const expected = Object.entries(shapes).flatMap(([route, list]) => list.map((s) => `${route} ${s.action}`));
    expect([...actions.keys()]).toEqual(expect.arrayContaining(expected));
    const refused = [...actions].filter(([, statuses]) => !statuses.some((st) => st >= 200 && st < 300)).map(([k, st]) => `${k} -> ${st.join(',')}`);
    expect(refused, 'actions never accepted (their bodies must be fixed, or they test nothing)').toEqual([]);
    process.stdout.write(`isolation: ${sent.length} requests over ${accepted.size} routes, ${actions.size} actions in ${Object.keys(shapes).length} body shapes; `
      + `answers touching B: ${leaks.length}; routes that changed B's rows: ${bChangedBy.length}\n`);
  });

  it('never fails with a 5xx on foreign ids', () => {
    expect(serverErrors).toEqual([]);
  });

  it('control: B\'s own key reads B\'s data through the same requests', () => {
    expect([...revealedToB]).toEqual(expect.arrayContaining(['GET /api/people/{}', 'GET /api/people/{}/export', 'GET /api/objects/{}/{}']));
    if (sent.some((s) => s.text.startsWith('retry:'))) expect(streamProbeSeen, 'A\'s live stream showed A\'s own event').toBe(true);
  });
});
