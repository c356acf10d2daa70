// /api/openapi.json describes every route: the routes Fastify serves (but HEAD and OPTIONS, see
// src/http/openapi.ts) are exactly the documented operations, each with a unique operationId, a
// summary, tags, a response schema and a security declaration that names known schemes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from './harness.ts';
import { registeredRoutes, templateOf } from './registered-routes.ts';
import fastify from 'fastify';
import { registerOpenApi, UNDOCUMENTED_METHODS } from '../src/http/openapi.ts';
import type { TandemApp } from '../src/http/types.ts';

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'options', 'head'] as const;

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
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

  it('documents exactly the routes Fastify serves', () => {
    const key = (method: string, path: string) => `${method.toUpperCase()} ${templateOf(path)}`;
    const served = registeredRoutes(t.app).filter((r) => !UNDOCUMENTED_METHODS.has(r.method));
    // Guards the route parser itself: these are registered in this app.
    expect(served.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['GET /api/people/:id', 'POST /v1/track', 'GET /health/live']));
    const documented = new Set(operations(doc).map((o) => key(o.key.split(' ')[0]!, o.path)));
    const missing = served.filter((r) => !documented.has(key(r.method, r.path))).map((r) => `${r.method} ${r.path}`);
    expect(missing, `routes missing from /api/openapi.json: ${missing.join(', ')}`).toEqual([]);
    const servedKeys = new Set(served.map((r) => key(r.method, r.path)));
    const phantom = operations(doc).filter((o) => !servedKeys.has(key(o.key.split(' ')[0]!, o.path))).map((o) => o.key);
    expect(phantom, `documented but not served: ${phantom.join(', ')}`).toEqual([]);
  });

  it('gives every operation a unique operationId, a summary, tags and a security declaration', () => {
    const problems: string[] = [];
    const ids = new Map<string, string>();
    for (const { key, op } of operations(doc)) {
      if (!op.operationId) problems.push(`${key}: no operationId`);
      else if (ids.has(op.operationId)) problems.push(`${key}: operationId ${op.operationId} also used by ${ids.get(op.operationId)}`);
      else ids.set(op.operationId, key);
      if (!op.summary?.trim()) problems.push(`${key}: no summary`);
      if (!op.tags?.length) problems.push(`${key}: no tags`);
      if (!Array.isArray(op.security)) problems.push(`${key}: no security declaration (use [] for a public route)`);
    }
    expect(problems).toEqual([]);
  });

  it('declares the scheme each family of routes authenticates with', () => {
    const schemesOf = (path: string, method = 'post') => doc.paths[path]?.[method as 'post']?.security?.flatMap((r) => Object.keys(r));
    expect(schemesOf('/v1/track')).toEqual(['writeKey']);
    expect(schemesOf('/api/v2/entity')).toEqual(['trackKey']);
    expect(schemesOf('/api/v1/customers/{identifier}', 'put')).toEqual(['trackKey']);
    expect(schemesOf('/v1/send/email')).toEqual(['appKey']);
    expect(schemesOf('/api/people', 'get')).toEqual(['appKey']);
    expect(schemesOf('/webhooks/inbound/{provider}/{senderId}')).toEqual(['inboundSignature', 'inboundBasic', 'inboundBearer']);
    expect(schemesOf('/u/{token}')).toEqual([]);
    expect(schemesOf('/health/live', 'get')).toEqual([]);
  });

  it('gives every operation a response schema (204 and redirects need none)', () => {
    const missing = operations(doc).filter(({ op }) => {
      const success = Object.entries(op.responses ?? {}).filter(([status]) => /^[23]\d\d$/.test(status));
      return !success.some(([status, r]) => /^(204|30\d)$/.test(status) || Object.values(r.content ?? {}).some((c) => c.schema !== undefined));
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

  it('refuses at startup a route whose declared security contradicts the auth it checks', async () => {
    const app = fastify() as unknown as TandemApp;
    const auth = { appKey: () => Promise.resolve(), writeKey: () => Promise.resolve(), trackKey: () => Promise.resolve() };
    await registerOpenApi(app, auth);
    app.get('/consistent', { preHandler: auth.appKey, schema: { security: [{ appKey: [] }] } }, () => Promise.resolve('ok'));
    expect(() => app.get('/lying', { preHandler: auth.appKey, schema: { security: [{ writeKey: [] }] } }, () => Promise.resolve('ok')))
      .toThrow(/declares security .*writeKey.* but checks .*appKey/);
    expect(() => app.get('/public-but-checked', { preHandler: auth.trackKey, schema: { security: [] } }, () => Promise.resolve('ok')))
      .toThrow(/declares security \[\]/);
    await app.close();
  });
});
