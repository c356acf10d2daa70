import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../../../../test/harness.ts';
import type { CreatedWorkspace } from '../../workspaces/index.ts';

interface Version { version: number; body: Record<string, unknown>; createdAt: string; publishedAt: string | null }
interface Detail {
  id: string; kind: string; name: string; draftVersion: number; publishedVersion: number | null;
  draft: Version; published: Version | null;
}

describe('content resources', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  beforeAll(async () => { t = await createTestTandem(); ws = await t.workspace('Content'); });
  afterAll(async () => { await t.close(); });

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, key = ws.appApiKey) =>
    t.app.inject({ method, url, headers: { authorization: bearer(key) }, ...(payload === undefined ? {} : { payload: payload as object }) });

  it('creates, reads, saves new versions, publishes and deletes a component', async () => {
    const body1 = { mjml: '<mj-text>{{ props.text }}</mj-text>', props: { text: { type: 'text', label: 'Text' } } };
    const created = await call('POST', '/api/content/components', { name: 'my-paragraph', body: body1 });
    expect(created.statusCode).toBe(201);
    const c = created.json<Detail>();
    expect(c).toMatchObject({ kind: 'component', name: 'my-paragraph', draftVersion: 1, publishedVersion: null, published: null });
    expect(c.id).toMatch(/^cmp_/);
    expect(c.draft).toMatchObject({ version: 1, body: body1, publishedAt: null });

    const body2 = { ...body1, mjml: '<mj-text css-class="p">{{ props.text }}</mj-text>' };
    const saved = await call('PUT', `/api/content/components/${c.id}`, { body: body2 });
    expect(saved.statusCode).toBe(200);
    expect(saved.json<Detail>()).toMatchObject({ draftVersion: 2, draft: { version: 2, body: body2 }, published: null });

    // Publish version 1 explicitly, then the latest by default.
    const p1 = await call('POST', `/api/content/components/${c.id}/publish`, { version: 1 });
    expect(p1.json<Detail>()).toMatchObject({ publishedVersion: 1, published: { version: 1, body: body1 }, draft: { version: 2, body: body2 } });
    const got = await call('GET', `/api/content/components/${c.id}`);
    expect(got.json<Detail>()).toMatchObject({ publishedVersion: 1, draftVersion: 2, published: { body: body1 }, draft: { body: body2 } });
    const p2 = await call('POST', `/api/content/components/${c.id}/publish`);
    expect(p2.statusCode, p2.body).toBe(200);
    expect(p2.json<Detail>()).toMatchObject({ publishedVersion: 2, published: { version: 2, body: body2 } });

    const versions = await call('GET', `/api/content/components/${c.id}/versions`);
    const list = versions.json<{ versions: Version[] }>().versions;
    expect(list.map((v) => v.version)).toEqual([2, 1]);
    expect(list.every((v) => v.publishedAt !== null)).toBe(true);

    const missing = await call('POST', `/api/content/components/${c.id}/publish`, { version: 7 });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'content.version_not_found', field: 'version' } });

    // Kinds are separate: the component's id is not a layout.
    expect((await call('GET', `/api/content/layouts/${c.id}`)).json()).toMatchObject({ error: { code: 'content.not_found', field: 'id' } });

    expect((await call('DELETE', `/api/content/components/${c.id}`)).statusCode).toBe(204);
    const gone = await call('GET', `/api/content/components/${c.id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ error: { code: 'content.not_found', field: 'id' } });
    expect(await t.services.db.selectFrom('content_versions').select('version').where('resource_id', '=', c.id).execute()).toEqual([]);
  });

  it('lists by name, a page at a time', async () => {
    for (const name of ['b-snip', 'a-snip', 'c-snip']) {
      expect((await call('POST', '/api/content/snippets', { name, body: { liquid: `{{ "${name}" }}` } })).statusCode).toBe(201);
    }
    const first = await call('GET', '/api/content/snippets?limit=2');
    const page = first.json<{ resources: Array<{ name: string; draftVersion: number }>; next: string | null }>();
    expect(page.resources.map((r) => r.name)).toEqual(['a-snip', 'b-snip']);
    expect(page.next).toBe('b-snip');
    const second = (await call('GET', '/api/content/snippets?limit=2&after=b-snip')).json<{ resources: Array<{ name: string }>; next: string | null }>();
    expect(second).toEqual({ resources: [expect.objectContaining({ name: 'c-snip' })], next: null });
    // Snippets are not in the starter kit: a new workspace has none.
    const other = await t.workspace('Other');
    expect((await call('GET', '/api/content/snippets', undefined, other.appApiKey)).json()).toEqual({ resources: [], next: null });
  });

  it('refuses a second resource of the same kind and name with 409, also on rename', async () => {
    const body = { mjml: '<mjml><mj-body>{{ content }}</mj-body></mjml>' };
    expect((await call('POST', '/api/content/layouts', { name: 'brand-2', body })).statusCode).toBe(201);
    const dup = await call('POST', '/api/content/layouts', { name: 'brand-2', body });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ error: { code: 'content.name_taken', field: 'name' } });
    // The same name in another kind is fine.
    expect((await call('POST', '/api/content/snippets', { name: 'brand', body: { liquid: 'x' } })).statusCode).toBe(201);

    const other = (await call('POST', '/api/content/layouts', { name: 'plain', body })).json<Detail>();
    const rename = await call('PUT', `/api/content/layouts/${other.id}`, { name: 'brand', body });
    expect(rename.statusCode).toBe(409);
    expect(rename.json()).toMatchObject({ error: { code: 'content.name_taken', field: 'name' } });
    // The failed rename saved nothing.
    expect((await call('GET', `/api/content/layouts/${other.id}`)).json<Detail>()).toMatchObject({ name: 'plain', draftVersion: 1 });
    const renamed = await call('PUT', `/api/content/layouts/${other.id}`, { name: 'plain-2', body });
    expect(renamed.json<Detail>()).toMatchObject({ name: 'plain-2', draftVersion: 2 });
  });

  it('validates bodies by kind and names the failing field', async () => {
    const cases: Array<[string, unknown, string]> = [
      ['layouts', { name: 'l', body: {} }, 'body.mjml'],
      ['components', { name: 'c', body: { mjml: 'x', props: { title: { type: 'video' } } } }, 'body.props.title.type'],
      ['snippets', { name: 'bad name!', body: { liquid: 'x' } }, 'name'],
      ['templates', { name: 't', body: { channel: 'email', marketing: true } }, 'body.email'],
      ['templates', { name: 't', body: { channel: 'sms', marketing: false, sms: { body: 3 } } }, 'body.sms.body'],
      ['templates', { name: 't', body: { channel: 'email', marketing: true, email: { subject: 'Hi', blocks: [{ props: {} }] } } }, 'body.email.blocks[0].component'],
      ['templates', { name: 't', body: { channel: 'webhook', marketing: false, webhook: { method: 'TRACE', url: 'https://x' } } }, 'body.webhook.method'],
      ['templates', { name: 't', body: { channel: 'email', marketing: true, email: { subject: 'Hi', code: { mjml: 'a', html: 'b' } } } }, 'body.email.code'],
      ['templates', { name: 't', body: { channel: 'in_app', marketing: false, in_app: { title: 'T', body: 'B' }, extra: 1 } }, 'body'],
    ];
    for (const [kind, payload, field] of cases) {
      const res = await call('POST', `/api/content/${kind}`, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json(), JSON.stringify(payload)).toMatchObject({ error: { code: 'request.invalid', field } });
    }
    // NUL characters cannot be stored in jsonb: refused by the input guard, naming the field, not a 500.
    const nul = await call('POST', '/api/content/snippets', { name: 'nul', body: { liquid: 'a\u0000b' } });
    expect(nul.statusCode).toBe(400);
    expect(nul.json()).toMatchObject({ error: { code: 'request.invalid', field: 'body.liquid' } });
  });

  it('stores every channel of template', async () => {
    const bodies = [
      { channel: 'email', marketing: true, topic: 'news', email: { subject: 'Hi {{ customer.first_name }}', layout: 'brand', blocks: [{ component: 'hero', props: { title: 'Hello' } }] } },
      { channel: 'email', marketing: false, email: { subject: 'Receipt', code: { html: '<p>Thanks</p>' } } },
      { channel: 'sms', marketing: false, sms: { body: 'Your code is {{ event.code }}' } },
      { channel: 'webhook', marketing: false, webhook: { method: 'POST', url: 'https://example.com/hook', headers: { 'x-a': 'b' }, body: '{}' } },
      { channel: 'in_app', marketing: true, in_app: { title: 'New', body: 'Look', buttons: [{ label: 'Open', url: 'https://example.com' }] } },
    ];
    for (const [i, body] of bodies.entries()) {
      const res = await call('POST', '/api/content/templates', { name: `tpl-${i}`, body });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json<Detail>().draft.body).toEqual(body);
    }
  });

  it('keeps workspaces apart', async () => {
    const other = await t.workspace('Other');
    const mine = (await call('POST', '/api/content/snippets', { name: 'private', body: { liquid: 'secret-of-a' } })).json<Detail>();
    // The other workspace may use the same name, and cannot see, change, publish or delete mine.
    expect((await call('POST', '/api/content/snippets', { name: 'private', body: { liquid: 'b' } }, other.appApiKey)).statusCode).toBe(201);
    const theirs = await call('GET', '/api/content/snippets', undefined, other.appApiKey);
    expect(theirs.body).not.toContain('secret-of-a');
    expect(theirs.body).not.toContain(mine.id);
    for (const [method, url, payload] of [
      ['GET', `/api/content/snippets/${mine.id}`, undefined],
      ['GET', `/api/content/snippets/${mine.id}/versions`, undefined],
      ['PUT', `/api/content/snippets/${mine.id}`, { body: { liquid: 'pwned' } }],
      ['POST', `/api/content/snippets/${mine.id}/publish`, {}],
      ['DELETE', `/api/content/snippets/${mine.id}`, undefined],
    ] as const) {
      const res = await call(method, url, payload, other.appApiKey);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'content.not_found' } });
    }
    expect((await call('GET', `/api/content/snippets/${mine.id}`)).json<Detail>())
      .toMatchObject({ draftVersion: 1, publishedVersion: null, draft: { body: { liquid: 'secret-of-a' } } });
  });

  it('looks resources up by name through the service', async () => {
    const created = await t.services.content.create(ws.workspaceId, 'component', 'my-button', { mjml: '<mj-button />', props: {} });
    expect((await t.services.content.getByName(ws.workspaceId, 'component', 'my-button'))?.id).toBe(created.id);
    expect(await t.services.content.getByName(ws.workspaceId, 'layout', 'my-button')).toBeUndefined();
    await expect(t.services.content.create(ws.workspaceId, 'snippet', 'x', { mjml: 'wrong kind' }))
      .rejects.toMatchObject({ code: 'request.invalid', field: 'body.liquid' });
  });
});
