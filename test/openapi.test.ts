// /api/openapi.json describes every public route: each /api/* and /v1/* route Fastify serves is
// documented, each operation has a response schema, and security references resolve.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from './harness.ts';
import { registeredRoutes, templateOf } from './registered-routes.ts';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
/** Served but deliberately not part of the public document. */
const UNDOCUMENTED = new Set(['GET /api/openapi.json']);

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  parameters?: Array<{ in: string; name: string }>;
  security?: Array<Record<string, unknown>>;
}
interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components?: { securitySchemes?: Record<string, { type: string }> };
}

function operations(doc: OpenApiDoc): Array<{ key: string; path: string; op: Operation }> {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.flatMap((m) => (item[m] ? [{ key: `${m.toUpperCase()} ${path}`, path, op: item[m] }] : [])));
}

describe('OpenAPI document', () => {
  let t: TestTandem;
  let doc: OpenApiDoc;

  beforeAll(async () => {
    t = await createTestTandem();
    const res = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/json');
    doc = res.json<OpenApiDoc>();
  });
  afterAll(async () => { await t.close(); });

  it('is OpenAPI 3.1 with info, paths and security schemes', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toBeTruthy();
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
    const schemes = doc.components?.securitySchemes ?? {};
    expect(Object.keys(schemes)).toEqual(expect.arrayContaining(['appKey', 'writeKey', 'trackKey']));
    for (const s of Object.values(schemes)) expect(['http', 'apiKey', 'oauth2', 'openIdConnect', 'mutualTLS']).toContain(s.type);
  });

  it('documents every /api/* and /v1/* route Fastify serves', () => {
    const served = registeredRoutes(t.app)
      .filter((r) => (r.path.startsWith('/api/') || r.path.startsWith('/v1/')) && METHODS.includes(r.method.toLowerCase() as never));
    // Guards the route parser itself: the people routes are registered in this app.
    expect(served.map((r) => `${r.method} ${r.path}`)).toContain('GET /api/people/:id');
    const documented = new Set(operations(doc).map((o) => `${o.key.split(' ')[0]} ${templateOf(o.path)}`));
    const missing = served
      .filter((r) => !UNDOCUMENTED.has(`${r.method} ${r.path}`))
      .filter((r) => !documented.has(`${r.method} ${templateOf(r.path)}`))
      .map((r) => `${r.method} ${r.path}`);
    expect(missing, `routes missing from /api/openapi.json: ${missing.join(', ')}`).toEqual([]);
  });

  it('has no documented path that Fastify does not serve', () => {
    const served = new Set(registeredRoutes(t.app).map((r) => `${r.method} ${templateOf(r.path)}`));
    const phantom = operations(doc).map((o) => `${o.key.split(' ')[0]} ${templateOf(o.path)}`).filter((k) => !served.has(k));
    expect(phantom).toEqual([]);
  });

  it('gives every operation a response schema (204 needs none)', () => {
    const missing = operations(doc).filter(({ op }) => {
      const success = Object.entries(op.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status));
      return !success.some(([status, r]) => status === '204' || Object.values(r.content ?? {}).some((c) => c.schema !== undefined));
    }).map((o) => o.key);
    expect(missing, `operations without a response schema: ${missing.join(', ')}`).toEqual([]);
  });

  it('declares every path parameter and references only known security schemes', () => {
    const schemes = new Set(Object.keys(doc.components?.securitySchemes ?? {}));
    const problems: string[] = [];
    for (const { key, path, op } of operations(doc)) {
      const declared = new Set((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name));
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) if (!declared.has(name!)) problems.push(`${key}: path parameter ${name} not declared`);
      for (const req of op.security ?? []) for (const name of Object.keys(req)) if (!schemes.has(name)) problems.push(`${key}: unknown security scheme ${name}`);
    }
    expect(problems).toEqual([]);
  });
});
