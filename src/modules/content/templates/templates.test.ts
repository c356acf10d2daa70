// Stored templates rendered end to end: the starter kit in every workspace, previews as a real person
// and as sample JSON, translations, every channel, test sends to the dev inbox, usage, and a
// component change reaching every template that uses it from the next send.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, createTestTandem, type TestTandem } from '../../../../test/harness.ts';
import type { CreatedWorkspace } from '../../workspaces/index.ts';

interface Rendered {
  templateId: string; version: number; channel: string; locale: string | null;
  email?: { subject: string; html: string; text: string; fromName: string | null; fromAddress: string | null };
  sms?: { body: string }; webhook?: { method: string; url: string; headers: Record<string, string>; body: string | null };
  in_app?: { title: string; body: string; buttons: Array<{ label: string; url: string | null }> };
  warnings: Array<{ code: string; message: string }>;
  person?: { id: string } | null; event?: { id: string; name: string | null } | null;
}
interface Ref { id: string; name: string; draftVersion: number; publishedVersion: number | null }

describe('stored templates', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  beforeAll(async () => { t = await createTestTandem(); ws = await t.workspace('Render Co'); });
  afterAll(async () => { await t.close(); });

  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: bearer(ws.appApiKey) }, ...(payload === undefined ? {} : { payload: payload as object }) });
  const idOf = async (kind: string, name: string): Promise<string> => {
    const list = (await call('GET', `/api/content/${kind}s?limit=500`)).json<{ resources: Ref[] }>();
    const found = list.resources.find((r) => r.name === name);
    if (!found) throw new Error(`no ${kind} ${name}`);
    return found.id;
  };
  const create = async (kind: string, name: string, body: unknown, publish = true): Promise<string> => {
    const res = await call('POST', `/api/content/${kind}s`, { name, body });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json<Ref>().id;
    if (publish) expect((await call('POST', `/api/content/${kind}s/${id}/publish`)).statusCode).toBe(200);
    return id;
  };
  const track = (payload: object) => t.app.inject({
    method: 'POST', url: '/v1/batch', headers: { authorization: basic(ws.writeKey) }, payload: { batch: [payload] },
  });

  it('gives every new workspace the starter kit: a published brand layout, ten components and a welcome draft', async () => {
    const layouts = (await call('GET', '/api/content/layouts')).json<{ resources: Ref[] }>().resources;
    expect(layouts).toEqual([expect.objectContaining({ name: 'brand', draftVersion: 1, publishedVersion: 1 })]);
    const components = (await call('GET', '/api/content/components')).json<{ resources: Ref[] }>().resources;
    expect(components.map((c) => c.name).sort()).toEqual(['button', 'divider', 'footer', 'heading', 'hero', 'image',
      'logo_header', 'paragraph', 'product_card', 'two_columns']);
    expect(components.every((c) => c.publishedVersion === 1)).toBe(true);
    const templates = (await call('GET', '/api/content/templates')).json<{ resources: Ref[] }>().resources;
    expect(templates).toEqual([expect.objectContaining({ name: 'welcome', publishedVersion: null })]);
  });

  it('previews the welcome email with sample JSON: subject, HTML from the components, text, workspace footer', async () => {
    await call('PATCH', '/api/workspace', { settings: { postalAddress: '1 Main Street\nSpringfield', fromAddress: 'hello@render.example', fromName: 'Render Co' } });
    const res = await call('POST', `/api/content/templates/${await idOf('template', 'welcome')}/preview`, { data: { customer: { first_name: 'Ada' } } });
    expect(res.statusCode, res.body).toBe(200);
    const r = res.json<Rendered>();
    expect(r.email?.subject).toBe('Welcome, Ada!');
    expect(r.email?.html).toContain('Welcome aboard');
    expect(r.email?.html).toContain('href="https://example.com/start"');
    expect(r.email?.html).toContain('1 Main Street<br />\nSpringfield');
    expect(r.email?.html).toMatch(/href="http:\/\/localhost:\d+\/preview\/unsubscribe"/);
    expect(r.email?.text).toMatch(/Welcome aboard/i);
    expect(r.email?.text).not.toContain('<');
    expect(r.email).toMatchObject({ fromName: 'Render Co', fromAddress: 'hello@render.example' });
    expect(r).toMatchObject({ version: 1, channel: 'email', locale: null, person: null, event: null, warnings: [] });
    // The same by name.
    const byName = (await call('POST', '/api/content/templates/welcome/preview?by=name', { data: { customer: { first_name: 'Ada' } } })).json<Rendered>();
    expect(byName.email?.subject).toBe('Welcome, Ada!');
    expect((await call('POST', '/api/content/templates/nope/preview?by=name', {})).json()).toMatchObject({ error: { code: 'content.not_found', field: 'id' } });
  });

  it('previews as a real person: their attributes, their latest event or a chosen one; data is escaped in HTML', async () => {
    const evil = '<script>alert(1)</script>';
    expect((await track({ type: 'identify', userId: 'u-42', traits: { first_name: `Grace${evil}`, email: 'grace@example.com' } })).statusCode).toBe(200);
    expect((await track({ type: 'track', userId: 'u-42', event: 'Viewed', properties: { product: 'Lamp' } })).statusCode).toBe(200);
    expect((await track({ type: 'track', userId: 'u-42', event: 'Bought', properties: { product: 'Chair' } })).statusCode).toBe(200);
    const tpl = await create('template', 'order', {
      channel: 'email', marketing: false,
      email: { subject: 'Your {{ event.product }}, {{ customer.first_name }}', code: { html: '<p>{{ customer.first_name }} bought {{ event.product }}</p>' } },
    });
    const latest = (await call('POST', `/api/content/templates/${tpl}/preview`, { person: { userId: 'u-42' } })).json<Rendered>();
    expect(latest.event?.name).toBe('Bought');
    expect(latest.email?.subject).toBe(`Your Chair, Grace${evil}`);
    expect(latest.email?.html).toContain('<p>Grace&lt;script&gt;alert(1)&lt;/script&gt; bought Chair</p>');
    expect(latest.email?.html).not.toContain('<script>');

    const timeline = (await call('GET', '/api/people/u-42/events?by=userId')).json<{ events: Array<{ id: string; name: string | null }> }>();
    const viewed = timeline.events.find((e) => e.name === 'Viewed');
    const chosen = (await call('POST', `/api/content/templates/${tpl}/preview`, { person: { email: 'grace@example.com' }, eventId: viewed?.id })).json<Rendered>();
    expect(chosen.email?.subject).toBe(`Your Lamp, Grace${evil}`);
    expect(chosen.person?.id).toBe(latest.person?.id);

    const missing = await call('POST', `/api/content/templates/${tpl}/preview`, { person: { userId: 'u-42' }, eventId: '999999999' });
    expect(missing.json()).toMatchObject({ error: { code: 'event.not_found', field: 'eventId' } });
    const nobody = await call('POST', `/api/content/templates/${tpl}/preview`, { person: { userId: 'nobody' } });
    expect(nobody.statusCode).toBe(404);
  });

  it('chooses the translation by the person\'s locale: exact, then language, then the template itself', async () => {
    const tpl = await create('template', 'hello-i18n', {
      channel: 'email', marketing: false,
      email: { subject: 'Hello {{ customer.first_name }}', code: { html: '<p>Hello</p>' } },
      translations: {
        fr: { email: { subject: 'Bonjour {{ customer.first_name }}', code: { html: '<p>Bonjour</p>' } } },
        'pt-BR': { email: { subject: 'Olá {{ customer.first_name }}' } },
      },
    });
    const as = async (locale: string | undefined) => (await call('POST', `/api/content/templates/${tpl}/preview`, {
      data: { customer: { first_name: 'Zoé', ...(locale ? { locale } : {}) } },
    })).json<Rendered>();
    expect((await as('fr-CA')).email).toMatchObject({ subject: 'Bonjour Zoé', html: '<p>Bonjour</p>' });
    expect((await as('fr-CA')).locale).toBe('fr');
    const pt = await as('pt-br');
    expect(pt.locale).toBe('pt-BR');
    expect(pt.email).toMatchObject({ subject: 'Olá Zoé', html: '<p>Hello</p>' });
    expect((await as('de')).email?.subject).toBe('Hello Zoé');
    expect((await as(undefined)).locale).toBeNull();
    const bad = await call('POST', '/api/content/templates', { name: 'bad-i18n', body: {
      channel: 'sms', marketing: false, sms: { body: 'x' }, translations: { fr: { email: { subject: 'x' } } },
    } });
    expect(bad.json()).toMatchObject({ error: { code: 'request.invalid', field: 'body.translations.fr.email' } });
  });

  it('renders SMS, webhook and in-app templates', async () => {
    const data = { data: { customer: { first_name: 'Lin', id: 'c-1' }, event: { total: 42 } } };
    const sms = await create('template', 'sms-1', { channel: 'sms', marketing: false, sms: { body: 'Hi {{ customer.first_name }}, total {{ event.total }}' } });
    expect((await call('POST', `/api/content/templates/${sms}/preview`, data)).json<Rendered>().sms).toEqual({ body: 'Hi Lin, total 42' });
    const hook = await create('template', 'hook-1', { channel: 'webhook', marketing: false, webhook: {
      method: 'POST', url: 'https://api.example/p/{{ customer.id }}', headers: { 'X-Total': '{{ event.total }}' },
      body: '{"name": {{ customer.first_name | json }}}',
    } });
    expect((await call('POST', `/api/content/templates/${hook}/preview`, data)).json<Rendered>().webhook)
      .toEqual({ method: 'POST', url: 'https://api.example/p/c-1', headers: { 'X-Total': '42' }, body: '{"name": "Lin"}' });
    const inApp = await create('template', 'inapp-1', { channel: 'in_app', marketing: false, in_app: {
      title: 'Hey {{ customer.first_name }}', body: 'Total {{ event.total }}', buttons: [{ label: 'Open', url: 'https://x.example/{{ customer.id }}' }],
    } });
    expect((await call('POST', `/api/content/templates/${inApp}/preview`, data)).json<Rendered>().in_app)
      .toEqual({ title: 'Hey Lin', body: 'Total 42', buttons: [{ label: 'Open', url: 'https://x.example/c-1', action: null }] });
  });

  it('test-sends to the dev inbox', async () => {
    const welcome = await idOf('template', 'welcome');
    const res = await call('POST', `/api/content/templates/${welcome}/test-send`, { to: 'me@render.example', data: { customer: { first_name: 'Ada' } } });
    expect(res.statusCode, res.body).toBe(202);
    const { devInboxId } = res.json<{ devInboxId: string }>();
    const list = (await call('GET', '/api/dev-inbox?to=me@render.example')).json<{ messages: Array<{ id: string; subject: string; from: string; source: string }> }>();
    expect(list.messages[0]).toMatchObject({ id: devInboxId, subject: '[Test] Welcome, Ada!', from: 'Render Co <hello@render.example>', source: 'test' });
    const one = (await call('GET', `/api/dev-inbox/${devInboxId}`)).json<{ html: string; text: string }>();
    expect(one.html).toContain('Welcome aboard');
    const hook = await idOf('template', 'hook-1');
    expect((await call('POST', `/api/content/templates/${hook}/test-send`, { to: 'me@render.example' })).json())
      .toMatchObject({ error: { code: 'content.wrong_channel' } });
  });

  it('a published component change reaches every template that uses it at the next send, previewed first', async () => {
    const cmp = await create('component', 'promo', {
      mjml: '<mj-section><mj-column><mj-text>{{ props.text }} (v1)</mj-text></mj-column></mj-section>',
      props: { text: { type: 'text' } },
    });
    const email = (text: string) => ({ channel: 'email', marketing: true, email: { subject: 'Promo', layout: 'brand', blocks: [{ component: 'promo', props: { text } }] } });
    const a = await create('template', 'promo-a', email('Alpha'));
    const b = await create('template', 'promo-b', email('Beta'));
    const send = (id: string) => t.services.templates.render(ws.workspaceId, id, { mode: 'send', context: {} });

    expect((await send(a)).email?.html).toContain('Alpha (v1)');
    const usage = (await call('GET', `/api/content/components/${cmp}/usage`)).json<{ templates: Ref[] }>();
    expect(usage.templates.map((x) => x.name)).toEqual(['promo-a', 'promo-b']);

    // A draft changes nothing that is sent, and the change preview shows before and after per template.
    await call('PUT', `/api/content/components/${cmp}`, { body: {
      mjml: '<mj-section><mj-column><mj-text>{{ props.text }} (v2)</mj-text></mj-column></mj-section>', props: { text: { type: 'text' } },
    } });
    expect((await send(b)).email?.html).toContain('Beta (v1)');
    const change = (await call('POST', `/api/content/components/${cmp}/change-preview`, {})).json<{
      component: { publishedVersion: number; candidateVersion: number };
      templates: Array<{ template: { name: string }; before: { html: string }; after: { html: string }; changed: boolean }>;
    }>();
    expect(change.component).toMatchObject({ publishedVersion: 1, candidateVersion: 2 });
    expect(change.templates.map((x) => [x.template.name, x.changed])).toEqual([['promo-a', true], ['promo-b', true]]);
    expect(change.templates[1]?.before.html).toContain('Beta (v1)');
    expect(change.templates[1]?.after.html).toContain('Beta (v2)');

    await call('POST', `/api/content/components/${cmp}/publish`);
    expect((await send(a)).email?.html).toContain('Alpha (v2)');
    expect((await send(b)).email?.html).toContain('Beta (v2)');
  });

  it('sends only published versions and compiles each version once', async () => {
    const welcome = await idOf('template', 'welcome');
    await expect(t.services.templates.render(ws.workspaceId, welcome, { mode: 'send', context: {} }))
      .rejects.toMatchObject({ code: 'content.not_published' });
    const draftLayout = await create('layout', 'unpublished', { mjml: '<mjml><mj-body>{{ content }}</mj-body></mjml>' }, false);
    const tpl = await create('template', 'uses-draft-layout', { channel: 'email', marketing: false, email: { subject: 's', layout: 'unpublished', blocks: [] } });
    await expect(t.services.templates.render(ws.workspaceId, tpl, { mode: 'send', context: {} }))
      .rejects.toMatchObject({ code: 'content.not_published', details: { field: 'layout' } });
    const preview = (await call('POST', `/api/content/templates/${tpl}/preview`, {})).json<Rendered>();
    expect(preview.warnings).toEqual([expect.objectContaining({ code: 'content.unpublished_dependency' })]);
    expect(draftLayout).toMatch(/^lay_/);

    const stats = t.services.renderer.stats;
    const before = stats.compiles;
    for (let i = 0; i < 5; i++) await call('POST', `/api/content/templates/${welcome}/preview`, { data: { customer: { first_name: `P${i}` } } });
    expect(stats.compiles - before).toBeLessThanOrEqual(1);
  });

  it('lints on save and by API; lint errors block publishing unless forced', async () => {
    const welcome = await idOf('template', 'welcome');
    const lint = (await call('GET', `/api/content/templates/${welcome}/lint`)).json<{ errors: number; findings: Array<{ rule: string; severity: string }> }>();
    expect(lint.errors).toBe(0);
    expect(lint.findings).toContainEqual(expect.objectContaining({ rule: 'image.external', severity: 'warning' }));

    const noUnsub = { channel: 'email', marketing: true, email: { subject: 'Sale', blocks: [{ component: 'heading', props: { text: 'Sale!' } }] } };
    const saved = await call('POST', '/api/content/templates', { name: 'no-unsub', body: noUnsub });
    expect(saved.statusCode).toBe(201);
    const detail = saved.json<{ id: string; lint: { errors: number; findings: Array<{ rule: string }> } }>();
    expect(detail.lint.errors).toBe(1);
    expect(detail.lint.findings.map((f) => f.rule)).toContain('unsubscribe.missing');
    const refused = await call('POST', `/api/content/templates/${detail.id}/publish`, {});
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ error: { code: 'content.lint_failed', field: 'version', findings: [expect.objectContaining({ rule: 'unsubscribe.missing' })] } });
    expect((await call('POST', `/api/content/templates/${detail.id}/publish`, { force: true })).json()).toMatchObject({ publishedVersion: 1 });

    const sms = (await call('POST', '/api/content/templates', { name: 'bad-sms', body: { channel: 'sms', marketing: false, sms: { body: 'Hi {{ customer.name ' } } }))
      .json<{ lint: { findings: Array<{ rule: string; part: string }> } }>();
    expect(sms.lint.findings).toContainEqual(expect.objectContaining({ rule: 'liquid.syntax', part: 'sms.body' }));
  });
});
