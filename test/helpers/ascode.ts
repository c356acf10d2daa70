// Shared by the as-code tests (in-process, real port, and the real `tandem` bin): a workspace holding
// every kind of resource, snapshots of a workspace's resources, and directory comparison.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TandemApp } from '../../src/http/types.ts';
import { RESOURCE_KINDS, type ContentService, type ResourceKind } from '../../src/modules/content/index.ts';
import type { Transport } from '../../src/ascode/index.ts';

/** app.inject as the client's transport: the same requests as over HTTP, without a socket. */
export function injectTransport(app: TandemApp, appKey: string): Transport {
  return async (req) => {
    const res = await app.inject({
      method: req.method, url: req.path, headers: { authorization: `Bearer ${appKey}` },
      ...(req.body === undefined ? {} : { payload: req.body as object }),
    });
    return { status: res.statusCode, body: res.body === '' ? undefined : JSON.parse(res.body) as unknown };
  };
}

const BRAND = `<mjml>
  <mj-body background-color="#f4f4f4">
    <mj-section><mj-column>{{ content }}</mj-column></mj-section>
  </mj-body>
</mjml>
`;

/**
 * Every kind, templates of all four channels (email with blocks and with code), and every publish
 * state: published (draft = published), draft only (never published), and published older version
 * with a newer draft.
 */
export async function seedEveryKind(content: ContentService, ws: string): Promise<void> {
  const layout = await content.create(ws, 'layout', 'acme', { mjml: BRAND });
  await content.publish(ws, 'layout', layout.id);
  const snippet = await content.create(ws, 'snippet', 'signature', { liquid: 'Thanks,\n{{ workspace.name | default: "The team" }}\n' });
  await content.publish(ws, 'snippet', snippet.id);
  const hero = await content.create(ws, 'component', 'acme-hero', {
    mjml: '<mj-section>\n  <mj-column>\n    <mj-text font-size="28px">{{ props.title }}</mj-text>\n  </mj-column>\n</mj-section>',
    props: { title: { type: 'text', label: 'Title', maxLength: 120 }, items: { type: 'list', items: { label: { type: 'text' } }, maxItems: 5 } },
    defaults: { title: 'Hello', items: [{ label: 'one' }] },
  });
  await content.publish(ws, 'component', hero.id);
  // Published v1, draft v2.
  await content.update(ws, 'component', hero.id, {
    body: {
      mjml: '<mj-section>\n  <mj-column>\n    <mj-text font-size="32px">{{ props.title }}</mj-text>\n  </mj-column>\n</mj-section>',
      props: { title: { type: 'text', label: 'Title', maxLength: 120 } },
    },
  });

  const onboarding = await content.create(ws, 'template', 'onboarding', {
    channel: 'email', marketing: false,
    email: {
      subject: 'Welcome, {{ customer.first_name | default: "friend" }}!', preheader: 'Good to have you', layout: 'acme',
      blocks: [{ component: 'acme-hero', props: { title: 'Welcome aboard' } }, { component: 'acme-hero', props: { title: 'Second: "quoted"' } }],
    },
    translations: { fr: { email: { subject: 'Bienvenue, {{ customer.first_name }} !' } }, 'pt-BR': { email: { subject: 'Bem-vindo!' } } },
  });
  await content.publish(ws, 'template', onboarding.id);
  await content.create(ws, 'template', 'receipt', {
    channel: 'email', marketing: false,
    email: { subject: 'Your receipt', code: { mjml: '<mjml>\n  <mj-body>\n    <mj-text>Total: {{ event.total }}</mj-text>\n  </mj-body>\n</mjml>\n' } },
  });
  const sms = await content.create(ws, 'template', 'otp-sms', { channel: 'sms', marketing: false, sms: { body: 'Your code is {{ event.code }}' } });
  await content.publish(ws, 'template', sms.id);
  const hook = await content.create(ws, 'template', 'crm-hook', {
    channel: 'webhook', marketing: false,
    webhook: { method: 'POST', url: 'https://crm.example.com/hooks/{{ customer.id }}', headers: { 'x-token': 'abc', 'content-type': 'application/json' }, body: '{\n  "email": "{{ customer.email }}"\n}' },
  });
  await content.publish(ws, 'template', hook.id);
  await content.create(ws, 'template', 'spring-sale', {
    channel: 'in_app', marketing: true, topic: 'offers',
    in_app: { title: 'Spring sale', body: '20% off\nuntil Sunday', buttons: [{ label: 'Shop', url: 'https://shop.example.com' }, { label: 'Later', action: 'dismiss' }] },
  });
}

export interface Snapshot {
  kind: ResourceKind;
  name: string;
  draftVersion: number;
  publishedVersion: number | null;
}

/** Every resource of the workspace with its versions: what "changes nothing" is checked against. */
export async function snapshot(content: ContentService, ws: string): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  for (const kind of RESOURCE_KINDS) {
    const page = await content.list(ws, kind, { limit: 500 });
    out.push(...page.resources.map((r) => ({ kind, name: r.name, draftVersion: r.draftVersion, publishedVersion: r.publishedVersion })));
  }
  return out;
}

/** Every file under `dir` (relative path -> bytes as text), for byte-for-byte comparison. */
export async function readTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const abs = path.join(e.parentPath, e.name);
    out[path.relative(dir, abs).split(path.sep).join('/')] = await readFile(abs, 'utf8');
  }
  return out;
}

export async function tempDir(prefix = 'tandem-ascode-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
