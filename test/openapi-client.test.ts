// A client generated from /api/openapi.json with openapi-typescript type-checks against real answers.
// Representative calls of every family (Segment, Customer.io Track and App API, the REST API, health)
// are answered by the running app; each answer is written as a literal typed by the generated `paths`
// for its route, method and status, and the TypeScript compiler checks them (strict, excess properties
// included). A control file with wrong answers must fail, so the check cannot pass vacuously.
// (Every JSON answer is also checked at runtime by the server: the route's zod response schema
// serialises it, and a mismatch is a 500, which the status check here would catch.)
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, createTestTandem, type TestTandem } from './harness.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The document's path template, e.g. /api/people/{id}. */
  route: string;
  url?: string;
  auth: 'app' | 'write' | 'track' | 'none';
  body?: unknown;
}
interface Answer { call: Call; status: number; json: unknown }

const JSON_OF = `
type JsonOf<P extends keyof paths, M extends string, S extends number> =
  M extends keyof paths[P] ? paths[P][M] extends { responses: infer R }
    ? S extends keyof R ? R[S] extends { content: { 'application/json': infer B } } ? B : never : never
    : never : never;
`;

function typedLiterals(answers: readonly Answer[]): string {
  const lines = answers.map((a, i) =>
    `// ${a.call.method} ${a.call.url ?? a.call.route}\nexport const a${i}: JsonOf<${JSON.stringify(a.call.route)}, ${JSON.stringify(a.call.method.toLowerCase())}, ${a.status}> = ${JSON.stringify(a.json, null, 1)};`);
  return `import type { paths } from './client.ts';\n${JSON_OF}\n${lines.join('\n')}\n`;
}

function compile(dir: string, files: string[]): ts.Diagnostic[] {
  const program = ts.createProgram(files.map((f) => path.join(dir, f)), {
    strict: true, noEmit: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: false, skipLibCheck: true,
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true, types: [], lib: ['lib.es2022.d.ts'],
  });
  return [...ts.getPreEmitDiagnostics(program)];
}

const describeDiagnostic = (d: ts.Diagnostic) =>
  `${d.file ? path.basename(d.file.fileName) : ''}:${d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : '?'} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;

describe('a client generated from the OpenAPI document', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let dir: string;
  const answers: Answer[] = [];

  async function call(c: Call): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (c.auth === 'app') headers['authorization'] = bearer(ws.appApiKey);
    if (c.auth === 'write') headers['authorization'] = basic(ws.writeKey);
    if (c.auth === 'track') headers['authorization'] = basic(ws.siteId, ws.trackApiKey);
    const res = await t.app.inject({
      method: c.method, url: c.url ?? c.route, headers,
      ...(c.body !== undefined ? { payload: c.body as object } : {}),
    });
    expect(res.statusCode, `${c.method} ${c.url ?? c.route}: ${res.body.slice(0, 500)}`).toBeLessThan(300);
    const answer: Answer = { call: c, status: res.statusCode, json: res.json<unknown>() };
    answers.push(answer);
    return answer;
  }

  beforeAll(async () => {
    t = await createTestTandem();
    ws = await t.workspace();
    dir = await mkdtemp(path.join(tmpdir(), 'tandem-openapi-'));

    // Ingest: Segment and Customer.io.
    await call({ method: 'POST', route: '/v1/identify', auth: 'write', body: { userId: 'u-1', traits: { email: 'ann@example.com', name: 'Ann', plan: 'pro' } } });
    await call({ method: 'POST', route: '/v1/track', auth: 'write', body: { userId: 'u-1', event: 'Order Completed', properties: { total: 42, items: [{ sku: 'a' }] } } });
    await call({ method: 'POST', route: '/v1/batch', auth: 'write', body: { batch: [{ type: 'page', userId: 'u-1', name: 'Home' }] } });
    await call({ method: 'PUT', route: '/api/v1/customers/{identifier}', url: '/api/v1/customers/u-2', auth: 'track', body: { email: 'bob@example.com', plan: 'free' } });
    await call({ method: 'POST', route: '/api/v2/entity', auth: 'track', body: { type: 'person', identifiers: { id: 'u-3' }, action: 'identify', attributes: { email: 'cy@example.com' } } });
    await call({ method: 'GET', route: '/v1/customers/{identifier}/attributes', url: '/v1/customers/u-1/attributes', auth: 'app' });

    // The REST API.
    await call({ method: 'GET', route: '/api/workspace', auth: 'app' });
    await call({ method: 'GET', route: '/api/keys', auth: 'app' });
    const people = await call({ method: 'GET', route: '/api/people', auth: 'app' });
    const personId = (people.json as { people: Array<{ id: string; userId: string | null }> }).people.find((p) => p.userId === 'u-1')!.id;
    await call({ method: 'GET', route: '/api/people/{id}', url: `/api/people/${personId}`, auth: 'app' });
    await call({ method: 'GET', route: '/api/people/{id}/events', url: `/api/people/${personId}/events`, auth: 'app' });
    await call({ method: 'GET', route: '/api/event-types', auth: 'app' });
    await call({ method: 'POST', route: '/api/topics', auth: 'app', body: { key: 'news', name: 'News', channel: 'email', default: 'opt_in' } });
    await call({ method: 'GET', route: '/api/topics', auth: 'app' });
    await call({ method: 'POST', route: '/api/suppressions', auth: 'app', body: { channel: 'email', address: 'gone@example.com' } });
    await call({ method: 'GET', route: '/api/suppressions', auth: 'app' });
    const segment = await call({
      method: 'POST', route: '/api/segments', auth: 'app',
      body: { key: 'pro', name: 'Pro', definition: { type: 'and', conditions: [{ type: 'attribute', path: 'plan', op: 'equals', value: 'pro' }] } },
    });
    const segmentId = (segment.json as { id: string }).id;
    await call({ method: 'GET', route: '/api/segments', auth: 'app' });
    await call({ method: 'GET', route: '/api/segments/{id}/explain', url: `/api/segments/${segmentId}/explain?person=${personId}`, auth: 'app' });
    await call({ method: 'GET', route: '/api/content/templates', auth: 'app' });
    await call({ method: 'GET', route: '/api/content/components', auth: 'app' });
    const sent = await call({ method: 'POST', route: '/v1/send/email', auth: 'app', body: { to: 'ann@example.com', subject: 'Hi', body: '<p>Hello</p>' } });
    await call({ method: 'GET', route: '/api/messages', auth: 'app' });
    await call({ method: 'GET', route: '/api/messages/{id}', url: `/api/messages/${(sent.json as { delivery_id: string }).delivery_id}`, auth: 'app' });
    await call({ method: 'GET', route: '/api/senders', auth: 'app' });
    await call({ method: 'GET', route: '/api/tracking/settings', auth: 'app' });
    await call({ method: 'GET', route: '/api/assets', auth: 'app' });
    await call({ method: 'GET', route: '/api/webhooks/endpoints', auth: 'app' });
    await call({ method: 'GET', route: '/api/imports', auth: 'app' });
    await call({ method: 'GET', route: '/health/live', auth: 'none' });
    await call({ method: 'GET', route: '/health/ready', auth: 'none' });

    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<object>();
    // openapi-typescript validates the document first (unresolvable $refs fail here).
    await writeFile(path.join(dir, 'client.ts'), astToString(await openapiTS(doc as never)));
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('type-checks every recorded answer against the generated response types', async () => {
    expect(answers.length).toBeGreaterThanOrEqual(30);
    await writeFile(path.join(dir, 'answers.ts'), typedLiterals(answers));
    // The control: a wrong field type, an undocumented field, and a status the route does not answer.
    const wrong = answers.find((a) => a.call.route === '/api/people')!;
    await writeFile(path.join(dir, 'control.ts'), typedLiterals([
      { ...wrong, json: { people: 'not a list', nextCursor: null } },
      { ...wrong, json: { ...(wrong.json as object), undocumented: true } },
      { ...wrong, status: 201 },
    ]));
    const diagnostics = compile(dir, ['answers.ts', 'control.ts']);
    const of = (file: string) => diagnostics.filter((d) => d.file && path.basename(d.file.fileName) === file);
    const elsewhere = diagnostics.filter((d) => !d.file || !['answers.ts', 'control.ts'].includes(path.basename(d.file.fileName)));
    expect(elsewhere.map(describeDiagnostic)).toEqual([]);
    expect(of('answers.ts').map(describeDiagnostic)).toEqual([]);
    const controlLines = new Set(of('control.ts').map((d) => d.file!.getLineAndCharacterOfPosition(d.start!).line));
    expect(controlLines.size, of('control.ts').map(describeDiagnostic).join('\n')).toBe(3);
  }, 60_000);
});
