// Issue 3's "done when", over a real port and only through the marketer-facing API: upload an image,
// build an email from starter components with it, preview it as a real person, lint it, see where the
// image is used, fix a component and watch every template that uses it follow at the next send.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, createTestTandem, type TestTandem } from './harness.ts';
import { form, makeImage } from './helpers/images.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

interface Ref { id: string; name: string; publishedVersion: number | null; draftVersion: number }
interface Finding { rule: string; severity: string }

describe('a marketer builds, previews, lints and fixes an email through the API', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  beforeAll(async () => {
    t = await createTestTandem({ listen: true });
    ws = await t.services.workspaces.create('Journey Co');
  });
  afterAll(async () => { await t.close(); });

  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const res = await fetch(`${t.baseUrl}${path}`, {
      method, headers: { authorization: bearer(ws.appApiKey), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: await res.json() as T };
  };

  it('goes from an uploaded image to a fixed component in every template', async () => {
    // 1. Upload an image into the library.
    const upload = await fetch(`${t.baseUrl}/api/assets`, {
      method: 'POST', headers: { authorization: bearer(ws.appApiKey) },
      body: form({ data: await makeImage('png', 1200, 600, 7), filename: 'spring.png', contentType: 'image/png' }, { alt: 'Spring sale' }),
    });
    expect(upload.status).toBe(201);
    const asset = await upload.json() as { id: string; url: string; width: number };
    expect(asset.url).toMatch(/\/assets\/[0-9a-f]{64}\.png$/);
    expect(asset.width).toBe(1200);

    // 2. Build an email from starter components, the image among them.
    const blocks = (heading: string) => [
      { component: 'heading', props: { text: heading } },
      { component: 'image', props: { image: { url: asset.url, alt: 'Spring sale', width: 568 } } },
      { component: 'paragraph', props: { body: '<p>Hello {{ customer.first_name }}, our spring sale starts today.</p>' } },
      { component: 'button', props: { link: { url: 'https://shop.example/spring', label: 'Shop now' } } },
    ];
    const email = (heading: string) => ({
      channel: 'email', marketing: true, topic: 'news',
      email: { subject: 'Spring is here, {{ customer.first_name }}', layout: 'brand', blocks: blocks(heading) },
    });
    const created = await api<Ref & { lint: { errors: number; findings: Finding[] } }>('POST', '/api/content/templates', { name: 'spring-sale', body: email('Spring sale') });
    expect(created.status).toBe(201);
    expect(created.json.lint.findings.filter((f) => f.severity === 'error')).toEqual([]);
    const spring = created.json.id;
    const other = (await api<Ref>('POST', '/api/content/templates', { name: 'spring-reminder', body: email('Last days') })).json.id;

    // 3. Preview it as a real person.
    const track = await fetch(`${t.baseUrl}/v1/identify`, {
      method: 'POST', headers: { authorization: basic(ws.writeKey), 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'u-ann', traits: { email: 'ann@example.com', first_name: 'Ann' } }),
    });
    expect(track.status).toBe(200);
    const preview = await api<{ email: { subject: string; html: string; text: string }; person: { id: string } }>(
      'POST', `/api/content/templates/${spring}/preview`, { person: { userId: 'u-ann' } });
    expect(preview.status).toBe(200);
    expect(preview.json.email.subject).toBe('Spring is here, Ann');
    expect(preview.json.email.html).toContain(`src="${asset.url}"`);
    expect(preview.json.email.html).toContain('Hello Ann, our spring sale starts today.');
    expect(preview.json.email.text).toContain('Shop now [https://shop.example/spring]');
    // The image is served from Tandem, immutable.
    const file = await fetch(asset.url.replace(/^https?:\/\/[^/]+/, t.baseUrl));
    expect(file.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

    // 4. Lint: clean, and the hosted image draws no warning; an outside image does.
    const lint = await api<{ errors: number; findings: Finding[] }>('GET', `/api/content/templates/${spring}/lint`);
    expect(lint.json.errors).toBe(0);
    expect(lint.json.findings.filter((f) => f.rule === 'image.external')).toEqual([]);
    const outside = email('x');
    outside.email.blocks[1] = { component: 'image', props: { image: { url: 'https://cdn.elsewhere.example/a.png', alt: 'A', width: 100 } } };
    const saved = await api<{ lint: { findings: Finding[] } }>('PUT', `/api/content/templates/${other}`, { body: outside });
    expect(saved.json.lint.findings).toContainEqual(expect.objectContaining({ rule: 'image.external', severity: 'warning' }));
    await api('PUT', `/api/content/templates/${other}`, { body: email('Last days') });

    // 5. Where is the image used?
    const used = await api<{ usage: Array<{ kind: string; name: string }> }>('GET', `/api/assets/${asset.id}/usage`);
    expect(used.json.usage.map((u) => `${u.kind} ${u.name}`)).toEqual(['template spring-reminder', 'template spring-sale']);

    // 6. Publish both, then fix the button component: a preview of the change first, then every send follows.
    for (const id of [spring, other]) expect((await api('POST', `/api/content/templates/${id}/publish`, {})).status).toBe(200);
    const send = (id: string) => t.services.templates.render(ws.workspaceId, id, { mode: 'send', context: {} });
    expect((await send(spring)).email?.html).not.toContain('border-radius:24px');

    const button = (await api<{ resources: Ref[] }>('GET', '/api/content/components?limit=100')).json.resources.find((r) => r.name === 'button');
    const current = await api<{ draft: { body: { mjml: string; props: unknown; defaults?: unknown } } }>('GET', `/api/content/components/${button?.id}`);
    const fixed = { ...current.json.draft.body, mjml: current.json.draft.body.mjml.replace('<mj-button ', '<mj-button border-radius="24px" ') };
    expect(fixed.mjml).toContain('border-radius="24px"');
    expect((await api('PUT', `/api/content/components/${button?.id}`, { body: fixed })).status).toBe(200);

    const usage = await api<{ templates: Ref[] }>('GET', `/api/content/components/${button?.id}/usage`);
    expect(usage.json.templates.map((x) => x.name)).toEqual(expect.arrayContaining(['spring-reminder', 'spring-sale']));
    const change = await api<{ templates: Array<{ template: { name: string }; changed: boolean; before: { html: string }; after: { html: string } }> }>(
      'POST', `/api/content/components/${button?.id}/change-preview`, { person: { userId: 'u-ann' } });
    const mine = change.json.templates.filter((x) => x.template.name.startsWith('spring-'));
    expect(mine).toHaveLength(2);
    for (const c of mine) {
      expect(c.changed).toBe(true);
      expect(c.before.html).not.toContain('border-radius:24px');
      expect(c.after.html).toContain('border-radius:24px');
    }
    // Not sent until published.
    expect((await send(other)).email?.html).not.toContain('border-radius:24px');
    expect((await api('POST', `/api/content/components/${button?.id}/publish`, {})).status).toBe(200);
    expect((await send(spring)).email?.html).toContain('border-radius:24px');
    expect((await send(other)).email?.html).toContain('border-radius:24px');

    // 7. The link checker reads the composed template (block mode) and finds its links and image.
    await t.services.linkChecks.check(ws.workspaceId, spring);
    const links = await api<{ results: Array<{ url: string; kind: string }> }>('GET', `/api/content/templates/${spring}/link-check`);
    expect(links.json.results.map((r) => r.url)).toEqual(expect.arrayContaining(['https://shop.example/spring', asset.url]));
  });
});
