// pull and apply against a real Tandem: over a real port (fetch) and in-process (app.inject).
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from '../../test/harness.ts';
import { injectTransport, readTree, seedEveryKind, snapshot, tempDir } from '../../test/helpers/ascode.ts';
import { isAppError } from '../errors.ts';
import type { CreatedWorkspace } from '../modules/workspaces/index.ts';
import { apply, createContentClient, httpTransport, pull, type ContentClient, type PlanEntry } from './index.ts';

let t: TestTandem;
let tmp: { dir: string; remove(): Promise<void> };
let source: CreatedWorkspace;
/** The source workspace pulled over the real port. */
let pulled: string;

beforeAll(async () => {
  t = await createTestTandem({ listen: true });
  tmp = await tempDir();
  source = await t.workspace('Source');
  await seedEveryKind(t.services.content, source.workspaceId);
  pulled = path.join(tmp.dir, 'pulled');
  await pull({ dir: pulled, client: createContentClient(httpTransport(t.baseUrl, source.appApiKey)) });
});

afterAll(async () => {
  await t.close();
  await tmp.remove();
});

const http = (ws: CreatedWorkspace): ContentClient => createContentClient(httpTransport(t.baseUrl, ws.appApiKey));
const local = (ws: CreatedWorkspace): ContentClient => createContentClient(injectTransport(t.app, ws.appApiKey));

/** A copy of the pulled directory to change. */
async function copyOfPulled(name: string): Promise<string> {
  const dir = path.join(tmp.dir, name);
  await cp(pulled, dir, { recursive: true });
  return dir;
}

function actions(plan: PlanEntry[]): Record<string, string> {
  return Object.fromEntries(plan.map((e) => [`${e.kind}/${e.name}`, e.action]));
}

async function applyError(dir: string, client: ContentClient): Promise<{ code: string; message: string }> {
  const err = await apply({ dir, client }).then(() => undefined, (e: unknown) => e);
  if (!isAppError(err)) throw new Error(`expected an AppError, got ${String(err)}`);
  return { code: err.code, message: err.message };
}

describe('tandem pull', () => {
  it('writes one YAML file per resource, with the draft body and its publish status', async () => {
    const tree = await readTree(pulled);
    expect(Object.keys(tree)).toEqual(expect.arrayContaining([
      'layouts/acme.yaml', 'snippets/signature.yaml', 'components/acme-hero.yaml',
      'templates/onboarding.yaml', 'templates/receipt.yaml', 'templates/otp-sms.yaml', 'templates/crm-hook.yaml', 'templates/spring-sale.yaml',
    ]));
    expect(tree['layouts/acme.yaml']).toBe([
      'name: acme', 'status: published', 'mjml: |', '  <mjml>', '    <mj-body background-color="#f4f4f4">',
      '      <mj-section><mj-column>{{ content }}</mj-column></mj-section>', '    </mj-body>', '  </mjml>', '',
    ].join('\n'));
    // v1 published, v2 the draft: the file holds v2 and says draft.
    expect(tree['components/acme-hero.yaml']).toMatch(/^name: acme-hero\nstatus: draft\nmjml: \|-\n.*font-size="32px"/s);
    expect(tree['templates/receipt.yaml']).toMatch(/^name: receipt\nstatus: draft\nchannel: email\n/);
    expect(tree['templates/onboarding.yaml']).toContain('\ntranslations:\n  fr:\n    email:\n      subject: Bienvenue, {{ customer.first_name }} !\n');
    expect(tree['templates/spring-sale.yaml']).toContain('in_app:\n  title: Spring sale\n  body: |-\n    20% off\n    until Sunday\n');

    // Pulling again changes no byte.
    const again = await pull({ dir: pulled, client: http(source) });
    expect(again.every((f) => f.action === 'unchanged')).toBe(true);
    expect(await readTree(pulled)).toEqual(tree);
  });

  it('reports local files the server lacks, and deletes them only with prune', async () => {
    const dir = await copyOfPulled('pull-prune');
    await writeFile(path.join(dir, 'snippets', 'gone.yaml'), 'name: gone\nstatus: draft\nliquid: x\n');
    const listed = await pull({ dir, client: local(source) });
    expect(listed).toContainEqual({ action: 'local_only', kind: 'snippet', name: 'gone', file: 'snippets/gone.yaml' });
    expect(await readFile(path.join(dir, 'snippets', 'gone.yaml'), 'utf8')).toContain('gone');
    const pruned = await pull({ dir, client: local(source), prune: true });
    expect(pruned).toContainEqual({ action: 'deleted', kind: 'snippet', name: 'gone', file: 'snippets/gone.yaml' });
    expect(await readTree(dir)).toEqual(await readTree(pulled));
  });
});

describe('tandem apply', () => {
  it('recreates a workspace from the files: pull of the copy is byte-identical, a second apply changes nothing', async () => {
    const target = await t.workspace('Target');
    const first = await apply({ dir: pulled, client: http(target) });
    expect(first.applied).toBe(true);
    const seeded = ['layout/acme', 'snippet/signature', 'component/acme-hero', 'template/onboarding', 'template/receipt', 'template/otp-sms', 'template/crm-hook', 'template/spring-sale'];
    for (const k of seeded) expect(actions(first.plan)[k]).toBe('create');
    // Layouts, then snippets, components, templates.
    const order = first.plan.filter((e) => e.action === 'create').map((e) => e.kind);
    expect(order).toEqual([...order].sort((a, b) => ['layout', 'snippet', 'component', 'template'].indexOf(a) - ['layout', 'snippet', 'component', 'template'].indexOf(b)));

    const copy = path.join(tmp.dir, 'copy');
    await pull({ dir: copy, client: http(target) });
    expect(await readTree(copy)).toEqual(await readTree(pulled));

    // Publish state came across: published where the file says so, never published otherwise.
    const snap = await snapshot(t.services.content, target.workspaceId);
    const by = (kind: string, name: string) => snap.find((s) => s.kind === kind && s.name === name);
    expect(by('layout', 'acme')).toMatchObject({ draftVersion: 1, publishedVersion: 1 });
    expect(by('component', 'acme-hero')).toMatchObject({ draftVersion: 1, publishedVersion: null });
    expect(by('template', 'receipt')).toMatchObject({ draftVersion: 1, publishedVersion: null });
    expect(by('template', 'otp-sms')).toMatchObject({ draftVersion: 1, publishedVersion: 1 });

    const second = await apply({ dir: pulled, client: http(target) });
    expect(second.plan.filter((e) => e.action !== 'unchanged')).toEqual([]);
    expect(await snapshot(t.services.content, target.workspaceId)).toEqual(snap);
    // And against the workspace it was pulled from.
    const before = await snapshot(t.services.content, source.workspaceId);
    expect((await apply({ dir: pulled, client: local(source) })).plan.every((e) => e.action === 'unchanged')).toBe(true);
    expect(await snapshot(t.services.content, source.workspaceId)).toEqual(before);
  });

  it('a dry run plans create, update and publish and changes nothing', async () => {
    const target = await t.workspace('Dry');
    await apply({ dir: pulled, client: local(target) });
    const dir = await copyOfPulled('dry');
    const welcome = path.join(dir, 'templates', 'onboarding.yaml');
    await writeFile(welcome, (await readFile(welcome, 'utf8')).replace('Welcome aboard', 'Welcome on board'));
    await writeFile(path.join(dir, 'templates', 'receipt.yaml'), (await readFile(path.join(dir, 'templates', 'receipt.yaml'), 'utf8')).replace('status: draft', 'status: published'));
    await writeFile(path.join(dir, 'snippets', 'legal.yaml'), 'name: legal\nstatus: draft\nliquid: "© Acme"\n');
    const before = await snapshot(t.services.content, target.workspaceId);

    let printed: PlanEntry[] = [];
    const result = await apply({ dir, client: local(target), dryRun: true, onPlan: (p) => (printed = p) });
    expect(result.applied).toBe(false);
    expect(printed).toBe(result.plan);
    expect(actions(result.plan)).toMatchObject({ 'template/onboarding': 'update', 'template/receipt': 'publish', 'snippet/legal': 'create', 'layout/acme': 'unchanged' });
    expect(await snapshot(t.services.content, target.workspaceId)).toEqual(before);

    // Carried out, the same plan does what it said.
    await apply({ dir, client: local(target) });
    const after = await snapshot(t.services.content, target.workspaceId);
    expect(after.find((s) => s.name === 'onboarding')).toMatchObject({ draftVersion: 2, publishedVersion: 2 });
    expect(after.find((s) => s.name === 'receipt')).toMatchObject({ draftVersion: 1, publishedVersion: 1 });
    expect(after.find((s) => s.name === 'legal')).toMatchObject({ draftVersion: 1, publishedVersion: null });
  });

  it('round-trips draft and published status', async () => {
    const ws = await t.workspace('Status');
    const dir = path.join(tmp.dir, 'status');
    await mkdir(path.join(dir, 'snippets'), { recursive: true });
    const file = path.join(dir, 'snippets', 'promo.yaml');
    const state = async () => (await snapshot(t.services.content, ws.workspaceId)).find((s) => s.name === 'promo');
    const step = async (status: string, liquid: string, action: string) => {
      await writeFile(file, `name: promo\nstatus: ${status}\nliquid: ${liquid}\n`);
      expect(actions((await apply({ dir, client: local(ws) })).plan)['snippet/promo']).toBe(action);
      const pulledBack = path.join(tmp.dir, `status-pull-${status}-${liquid}`);
      await pull({ dir: pulledBack, client: local(ws) });
      expect(await readFile(path.join(pulledBack, 'snippets', 'promo.yaml'), 'utf8')).toBe(`name: promo\nstatus: ${status}\nliquid: ${liquid}\n`);
      return state();
    };
    expect(await step('draft', 'a', 'create')).toMatchObject({ draftVersion: 1, publishedVersion: null });
    expect(await step('published', 'a', 'publish')).toMatchObject({ draftVersion: 1, publishedVersion: 1 });
    // A new draft leaves v1 published.
    expect(await step('draft', 'b', 'update')).toMatchObject({ draftVersion: 2, publishedVersion: 1 });
    expect(await step('published', 'b', 'publish')).toMatchObject({ draftVersion: 2, publishedVersion: 2 });
    expect(await step('published', 'c', 'update')).toMatchObject({ draftVersion: 3, publishedVersion: 3 });
  });

  it('publishes a template with lint errors only with force', async () => {
    const ws = await t.workspace('Lint');
    const dir = path.join(tmp.dir, 'lint');
    await mkdir(path.join(dir, 'templates'), { recursive: true });
    // A marketing email without an unsubscribe link: the server's lint refuses to publish it.
    await writeFile(path.join(dir, 'templates', 'sale.yaml'), [
      'name: sale', 'status: published', 'channel: email', 'marketing: true',
      'email:', '  subject: Sale', '  code:', '    html: <p>Sale!</p>', '',
    ].join('\n'));
    expect(await applyError(dir, local(ws))).toMatchObject({ code: 'content.lint_failed' });
    const state = async () => (await snapshot(t.services.content, ws.workspaceId)).find((x) => x.name === 'sale');
    expect(await state()).toMatchObject({ publishedVersion: null });
    const forced = await apply({ dir, client: local(ws), force: true });
    expect(actions(forced.plan)['template/sale']).toBe('publish');
    expect(await state()).toMatchObject({ draftVersion: 1, publishedVersion: 1 });
  });

  it('reads !file bodies relative to the file, and never from outside the directory', async () => {
    const ws = await t.workspace('Files');
    const dir = path.join(tmp.dir, 'files');
    await mkdir(path.join(dir, 'layouts'), { recursive: true });
    await mkdir(path.join(dir, 'templates', 'bodies'), { recursive: true });
    await writeFile(path.join(dir, 'layouts', 'plain.mjml'), BODY);
    await writeFile(path.join(dir, 'layouts', 'plain.yaml'), 'name: plain\nstatus: published\nmjml: !file plain.mjml\n');
    await writeFile(path.join(dir, 'templates', 'bodies', 'note.mjml'), '<mjml><mj-body><mj-text>Note</mj-text></mj-body></mjml>');
    await writeFile(path.join(dir, 'templates', 'note.yaml'),
      'name: note\nstatus: draft\nchannel: email\nmarketing: false\nemail:\n  subject: !file bodies/subject.txt\n  code:\n    mjml: !file bodies/note.mjml\n');
    await writeFile(path.join(dir, 'templates', 'bodies', 'subject.txt'), 'A note');
    await apply({ dir, client: local(ws) });
    const layout = await t.services.content.getByName(ws.workspaceId, 'layout', 'plain');
    expect(layout?.draft.body).toEqual({ mjml: BODY });
    expect(layout?.publishedVersion).toBe(1);
    const note = await t.services.content.getByName(ws.workspaceId, 'template', 'note');
    expect(note?.draft.body).toMatchObject({ email: { subject: 'A note', code: { mjml: '<mjml><mj-body><mj-text>Note</mj-text></mj-body></mjml>' } } });
    // Same bodies inline: nothing to do (resources the workspace started with are untracked).
    const again = (await apply({ dir, client: local(ws) })).plan.filter((e) => e.action !== 'untracked');
    expect(again.map((e) => e.action)).toEqual(['unchanged', 'unchanged']);
    // Pull writes them inline.
    const back = path.join(tmp.dir, 'files-pulled');
    await pull({ dir: back, client: local(ws) });
    expect(await readFile(path.join(back, 'layouts', 'plain.yaml'), 'utf8')).toBe(`name: plain\nstatus: published\nmjml: |\n${BODY.split('\n').filter(Boolean).map((l) => `  ${l}`).join('\n')}\n`);
  });

  describe('a bad file changes nothing and names the file and the field', () => {
    let ws: CreatedWorkspace;
    let dir: string;
    beforeAll(async () => {
      ws = await t.workspace('Bad');
      await apply({ dir: pulled, client: local(ws) });
      dir = await copyOfPulled('bad');
      // A valid change in the same directory: it must not be applied either.
      const sms = path.join(dir, 'templates', 'otp-sms.yaml');
      await writeFile(sms, (await readFile(sms, 'utf8')).replace('Your code', 'Your one-time code'));
      await writeFile(path.join(dir, 'snippets', 'extra.yaml'), 'name: extra\nstatus: published\nliquid: hi\n');
    });

    const cases: Array<[string, string, string, RegExp]> = [
      ['schema error', 'templates/welcome-2.yaml', 'name: welcome-2\nstatus: draft\nchannel: email\nmarketing: false\nemail:\n  layout: acme\n',
        /^templates\/welcome-2\.yaml: email\.subject: .*expected string/m],
      ['name mismatch', 'layouts/other.yaml', 'name: acme\nstatus: draft\nmjml: x\n', /^layouts\/other\.yaml: name: must equal the file name "other"/m],
      ['!file escaping the directory', 'snippets/evil.yaml', 'name: evil\nstatus: draft\nliquid: !file ../../etc/passwd\n',
        /^snippets\/evil\.yaml: liquid: !file \.\.\/\.\.\/etc\/passwd: points outside the directory/m],
      ['!file that does not exist', 'snippets/lost.yaml', 'name: lost\nstatus: draft\nliquid: !file lost.liquid\n', /^snippets\/lost\.yaml: liquid: !file lost\.liquid: no such file/m],
      ['YAML syntax error', 'snippets/broken.yaml', 'name: broken\n  liquid: : x\n', /^snippets\/broken\.yaml: .*line 2/m],
      ['bad status', 'snippets/st.yaml', 'name: st\nstatus: live\nliquid: x\n', /^snippets\/st\.yaml: status: must be published or draft/m],
      ['unknown field', 'components/x.yaml', 'name: x\nstatus: draft\nmjml: x\nprops: {}\ncolour: red\n', /^components\/x\.yaml: colour: unknown field/m],
      ['.yml extension', 'snippets/wrong.yml', 'name: wrong\nstatus: draft\nliquid: x\n', /^snippets\/wrong\.yml: resource files end in \.yaml/m],
    ];

    for (const [what, file, text, message] of cases) {
      it(what, async () => {
        const before = await snapshot(t.services.content, ws.workspaceId);
        await writeFile(path.join(dir, file), text);
        try {
          const err = await applyError(dir, local(ws));
          expect(err.code).toBe('ascode.invalid_file');
          expect(err.message).toMatch(message);
          expect(await snapshot(t.services.content, ws.workspaceId)).toEqual(before);
        } finally {
          await rm(path.join(dir, file));
        }
      });
    }

    it('!file through a symlink out of the directory', async () => {
      const before = await snapshot(t.services.content, ws.workspaceId);
      await symlink('/etc', path.join(dir, 'snippets', 'etc'));
      await writeFile(path.join(dir, 'snippets', 'link.yaml'), 'name: link\nstatus: draft\nliquid: !file etc/hostname\n');
      const err = await applyError(dir, local(ws));
      expect(err.message).toMatch(/^snippets\/link\.yaml: liquid: !file etc\/hostname: points outside the directory/m);
      expect(await snapshot(t.services.content, ws.workspaceId)).toEqual(before);
      await rm(path.join(dir, 'snippets', 'link.yaml'));
      await rm(path.join(dir, 'snippets', 'etc'));
    });

    it('lists every problem of every file at once', async () => {
      await writeFile(path.join(dir, 'snippets', 'one.yaml'), 'name: one\nstatus: draft\n');
      await writeFile(path.join(dir, 'layouts', 'two.yaml'), 'name: two\nmjml: x\n');
      const err = await applyError(dir, local(ws));
      expect(err.message.split('\n')).toEqual(expect.arrayContaining([
        expect.stringMatching(/^snippets\/one\.yaml: liquid: /), 'layouts/two.yaml: status: required: published or draft',
      ]));
      await rm(path.join(dir, 'snippets', 'one.yaml'));
      await rm(path.join(dir, 'layouts', 'two.yaml'));
      // With the bad files gone, the valid changes go through.
      const ok = await apply({ dir, client: local(ws) });
      expect(actions(ok.plan)).toMatchObject({ 'template/otp-sms': 'update', 'snippet/extra': 'create' });
    });
  });

  it('lists server resources without a file as untracked, and deletes them only with prune', async () => {
    const ws = await t.workspace('Prune');
    await apply({ dir: pulled, client: local(ws) });
    const dir = await copyOfPulled('prune');
    await rm(path.join(dir, 'templates', 'crm-hook.yaml'));
    const plain = await apply({ dir, client: local(ws) });
    expect(plain.plan.filter((e) => e.action !== 'unchanged')).toEqual([expect.objectContaining({ action: 'untracked', kind: 'template', name: 'crm-hook' })]);
    expect(await t.services.content.getByName(ws.workspaceId, 'template', 'crm-hook')).toBeDefined();
    const dry = await apply({ dir, client: local(ws), prune: true, dryRun: true });
    expect(actions(dry.plan)['template/crm-hook']).toBe('delete');
    expect(await t.services.content.getByName(ws.workspaceId, 'template', 'crm-hook')).toBeDefined();
    await apply({ dir, client: local(ws), prune: true });
    expect(await t.services.content.getByName(ws.workspaceId, 'template', 'crm-hook')).toBeUndefined();
  });

  it('refuses a directory without resource folders, a wrong key and an unreachable server', async () => {
    const empty = path.join(tmp.dir, 'empty');
    await mkdir(empty, { recursive: true });
    expect(await applyError(empty, local(source))).toMatchObject({ code: 'ascode.bad_directory' });
    expect(await applyError(path.join(tmp.dir, 'missing'), local(source))).toMatchObject({ code: 'ascode.bad_directory' });
    const badKey = createContentClient(httpTransport(t.baseUrl, 'tdm_app_wrong'));
    expect(await applyError(pulled, badKey)).toMatchObject({ code: 'auth.invalid', message: expect.stringContaining('--key') as unknown });
    const nowhere = createContentClient(httpTransport('http://127.0.0.1:9', source.appApiKey));
    expect(await applyError(pulled, nowhere)).toMatchObject({ code: 'ascode.unreachable' });
    const pullErr = await pull({ dir: path.join(tmp.dir, 'never'), client: nowhere }).then(() => undefined, (e: unknown) => e);
    expect(isAppError(pullErr) && pullErr.code).toBe('ascode.unreachable');
  });
});

const BODY = '<mjml>\n  <mj-body>\n    <mj-text>Plain</mj-text>\n  </mj-body>\n</mjml>\n';
