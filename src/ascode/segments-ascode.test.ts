// Segments in the as-code format against a real Tandem (real PostgreSQL): pull writes segments/<key>.yaml,
// apply plans and carries them out in dependency order, and a bad file changes nothing.
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from '../../test/harness.ts';
import { injectTransport, readTree, snapshot, tempDir } from '../../test/helpers/ascode.ts';
import { isAppError } from '../errors.ts';
import type { CreatedWorkspace } from '../modules/workspaces/index.ts';
import { apply, createContentClient, httpTransport, pull, type ContentClient, type PlanEntry } from './index.ts';

let t: TestTandem;
let tmp: { dir: string; remove(): Promise<void> };
let source: CreatedWorkspace;
/** The source workspace pulled over the real port. */
let pulled: string;

const local = (ws: CreatedWorkspace): ContentClient => createContentClient(injectTransport(t.app, ws.appApiKey));

async function addTopic(ws: CreatedWorkspace): Promise<void> {
  await t.services.consent.createTopic(ws.workspaceId, { key: 'news', name: 'News', default: 'opt_in', channel: 'email' });
}

/** A dynamic segment, a manual list with a member, and one naming both (one by id), a template (by id) and a topic. */
async function seed(ws: CreatedWorkspace): Promise<void> {
  const { segments, content } = t.services;
  const tpl = await content.create(ws.workspaceId, 'template', 'receipt', { channel: 'sms', marketing: false, sms: { body: 'Thanks!' } });
  await addTopic(ws);
  const pro = await segments.create(ws.workspaceId, {
    key: 'pro', name: 'Pro plan', description: 'Customers on the pro plan', definition: { type: 'attribute', path: 'plan', op: 'equals', value: 'pro' },
  });
  await segments.create(ws.workspaceId, { key: 'beta', name: 'Beta testers' });
  await t.services.ingest.ingest(ws.workspaceId, [{ type: 'identify', userId: 'ann', traits: { plan: 'pro' }, timestamp: new Date() }], { source: 'api' });
  await segments.editList(ws.workspaceId, 'beta', { add: [await t.services.peopleQuery.resolveId(ws.workspaceId, 'ann', 'userId')] });
  await segments.create(ws.workspaceId, {
    key: 'engaged', name: 'Engaged pros',
    definition: {
      type: 'and', conditions: [
        { type: 'segment', segment: pro.id },
        { type: 'segment', segment: 'beta', member: false },
        { within: { unit: 'days', last: 7 }, count: { value: 3, op: 'at_least' }, name: 'feature_used', type: 'event' },
        { type: 'message', activity: 'received', template: tpl.id },
        { type: 'topic', topic: 'news' },
      ],
    },
  });
}

/** Every segment of the workspace: what "changes nothing" is checked against. */
async function segmentState(ws: CreatedWorkspace) {
  return (await t.services.segments.list(ws.workspaceId)).map((s) => ({
    key: s.key, name: s.name, description: s.description, kind: s.kind, definition: s.definition, version: s.version, memberCount: s.memberCount,
  }));
}

async function state(ws: CreatedWorkspace) {
  return { content: await snapshot(t.services.content, ws.workspaceId), segments: await segmentState(ws) };
}

function segmentActions(plan: PlanEntry[]): Array<[string, string]> {
  return plan.filter((e) => e.kind === 'segment').map((e) => [e.action, e.name]);
}

async function applyError(dir: string, client: ContentClient, prune = false): Promise<{ code: string; message: string; field: string | undefined }> {
  const err = await apply({ dir, client, prune }).then(() => undefined, (e: unknown) => e);
  if (!isAppError(err)) throw new Error(`expected an AppError, got ${String(err)}`);
  return { code: err.code, message: err.message, field: err.field };
}

/** A directory holding only segments/ with these files. */
async function segmentsDir(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(tmp.dir, name);
  await mkdir(path.join(dir, 'segments'), { recursive: true });
  for (const [key, text] of Object.entries(files)) await writeFile(path.join(dir, 'segments', `${key}.yaml`), text);
  return dir;
}

const dynamic = (key: string, definition: string) => `key: ${key}\nname: ${key}\nkind: dynamic\ndefinition:\n${definition}`;
const refTo = (key: string) => `  type: segment\n  segment: ${key}\n`;

beforeAll(async () => {
  t = await createTestTandem({ listen: true });
  tmp = await tempDir('tandem-segments-ascode-');
  source = await t.workspace('Source');
  await seed(source);
  pulled = path.join(tmp.dir, 'pulled');
  await pull({ dir: pulled, client: createContentClient(httpTransport(t.baseUrl, source.appApiKey)) });
});

afterAll(async () => {
  await t.close();
  await tmp.remove();
});

describe('tandem pull', () => {
  it('writes segments/<key>.yaml: definitions in schema order, ids as keys and names, manual lists without members', async () => {
    const tree = await readTree(pulled);
    expect(tree['segments/pro.yaml']).toBe([
      'key: pro', 'name: Pro plan', 'description: Customers on the pro plan', 'kind: dynamic',
      'definition:', '  type: attribute', '  path: plan', '  op: equals', '  value: pro', '',
    ].join('\n'));
    expect(tree['segments/beta.yaml']).toBe('# A manual list: its members are data, not code; tandem apply never adds or removes any.\nkey: beta\nname: Beta testers\nkind: manual\n');
    expect(tree['segments/engaged.yaml']).toBe([
      'key: engaged', 'name: Engaged pros', 'kind: dynamic', 'definition:', '  type: and', '  conditions:',
      '    - type: segment', '      segment: pro', '      member: true',
      '    - type: segment', '      segment: beta', '      member: false',
      '    - type: event', '      name: feature_used', '      performed: true', '      count:', '        op: at_least', '        value: 3',
      '      within:', '        last: 7', '        unit: days',
      '    - type: message', '      activity: received', '      template: receipt', '      performed: true',
      '    - type: topic', '      topic: news', '      state: subscribed', '',
    ].join('\n'));

    const again = await pull({ dir: pulled, client: local(source) });
    expect(again.filter((f) => f.kind === 'segment')).toEqual([
      { action: 'unchanged', kind: 'segment', name: 'beta', file: 'segments/beta.yaml' },
      { action: 'unchanged', kind: 'segment', name: 'engaged', file: 'segments/engaged.yaml' },
      { action: 'unchanged', kind: 'segment', name: 'pro', file: 'segments/pro.yaml' },
    ]);
    expect(await readTree(pulled)).toEqual(tree);
  });

  it('reports segment files the server lacks, and deletes them only with prune', async () => {
    const dir = path.join(tmp.dir, 'pull-prune');
    await cp(pulled, dir, { recursive: true });
    await writeFile(path.join(dir, 'segments', 'gone.yaml'), 'key: gone\nname: Gone\nkind: manual\n');
    expect(await pull({ dir, client: local(source) })).toContainEqual({ action: 'local_only', kind: 'segment', name: 'gone', file: 'segments/gone.yaml' });
    expect(await pull({ dir, client: local(source), prune: true })).toContainEqual({ action: 'deleted', kind: 'segment', name: 'gone', file: 'segments/gone.yaml' });
    expect(await readTree(dir)).toEqual(await readTree(pulled));
  });
});

describe('tandem apply', () => {
  it('recreates the segments in another workspace, referenced ones first; a second apply is all unchanged', async () => {
    const target = await t.workspace('Target');
    await addTopic(target);
    const first = await apply({ dir: pulled, client: local(target) });
    // engaged names pro and beta: created after them, though it sorts first. The template it names comes before.
    expect(segmentActions(first.plan)).toEqual([['create', 'beta'], ['create', 'pro'], ['create', 'engaged']]);
    const kinds = first.plan.filter((e) => e.action === 'create').map((e) => e.kind);
    expect(kinds.indexOf('template')).toBeLessThan(kinds.indexOf('segment'));

    const copy = path.join(tmp.dir, 'copy');
    await pull({ dir: copy, client: local(target) });
    expect(await readTree(copy)).toEqual(await readTree(pulled));
    // Members are data: the list came across empty, and the source's member stayed.
    const byKey = async (ws: CreatedWorkspace, key: string) => (await segmentState(ws)).find((s) => s.key === key);
    expect(await byKey(target, 'beta')).toMatchObject({ kind: 'manual', memberCount: 0 });
    expect(await byKey(source, 'beta')).toMatchObject({ memberCount: 1 });

    const before = await state(target);
    const second = await apply({ dir: pulled, client: local(target) });
    expect(second.plan.filter((e) => e.action !== 'unchanged')).toEqual([]);
    expect(await state(target)).toEqual(before);
    // The workspace it was pulled from (which names pro and the template by id) is unchanged too.
    const sourceBefore = await state(source);
    expect(segmentActions((await apply({ dir: pulled, client: local(source) })).plan).every(([a]) => a === 'unchanged')).toBe(true);
    expect(await state(source)).toEqual(sourceBefore);
  });

  it('applies an edited file: a dry run plans the update, apply changes the server, then it is unchanged', async () => {
    const ws = await t.workspace('Edit');
    await addTopic(ws);
    await apply({ dir: pulled, client: local(ws) });
    const dir = path.join(tmp.dir, 'edit');
    await cp(pulled, dir, { recursive: true });
    await writeFile(path.join(dir, 'segments', 'pro.yaml'), [
      'key: pro', 'name: Paying', 'kind: dynamic', 'definition:',
      '  type: or', '  conditions:', '    - {value: pro, op: equals, path: plan, type: attribute}', '    - {type: attribute, path: plan, op: equals, value: business}', '',
    ].join('\n'));
    const before = await state(ws);
    const dry = await apply({ dir, client: local(ws), dryRun: true });
    expect(dry.plan.find((e) => e.name === 'pro')).toMatchObject({ action: 'update', kind: 'segment', segmentKind: 'dynamic', version: 1, file: 'segments/pro.yaml' });
    expect(await state(ws)).toEqual(before);

    await apply({ dir, client: local(ws) });
    const pro = await t.services.segments.get(ws.workspaceId, 'pro');
    expect(pro).toMatchObject({ name: 'Paying', description: '', version: 2 });
    expect(pro.definition).toEqual({ type: 'or', conditions: [
      { type: 'attribute', path: 'plan', op: 'equals', value: 'pro' }, { type: 'attribute', path: 'plan', op: 'equals', value: 'business' },
    ] });
    // Key order in the file does not count: the next apply is all unchanged.
    expect(segmentActions((await apply({ dir, client: local(ws) })).plan).every(([a]) => a === 'unchanged')).toBe(true);
    expect((await t.services.segments.get(ws.workspaceId, 'pro')).version).toBe(2);
  });

  it('orders a chain of references (created base first, pruned top first)', async () => {
    const ws = await t.workspace('Chain');
    const dir = await segmentsDir('chain', {
      'a-top': dynamic('a-top', refTo('m-mid')),
      'm-mid': dynamic('m-mid', refTo('z-base')),
      'z-base': dynamic('z-base', '  type: reachability\n  check: has_email\n'),
    });
    const created = await apply({ dir, client: local(ws) });
    expect(segmentActions(created.plan)).toEqual([['create', 'z-base'], ['create', 'm-mid'], ['create', 'a-top']]);

    for (const key of ['a-top', 'm-mid', 'z-base']) await rm(path.join(dir, 'segments', `${key}.yaml`));
    const kept = await apply({ dir, client: local(ws) });
    expect(segmentActions(kept.plan)).toEqual([['untracked', 'a-top'], ['untracked', 'm-mid'], ['untracked', 'z-base']]);
    expect(await segmentState(ws)).toHaveLength(3);
    // The server refuses to delete a segment another names: a-top must go first.
    await writeFile(path.join(dir, 'segments', 'z-base.yaml'), dynamic('z-base', '  type: reachability\n  check: has_email\n'));
    const pruned = await apply({ dir, client: local(ws), prune: true });
    expect(segmentActions(pruned.plan)).toEqual([['unchanged', 'z-base'], ['delete', 'a-top'], ['delete', 'm-mid']]);
    expect((await segmentState(ws)).map((s) => s.key)).toEqual(['z-base']);
  });

  it('leaves segments alone when the directory has no segments/ folder, even with prune', async () => {
    const dir = path.join(tmp.dir, 'no-segments');
    await cp(pulled, dir, { recursive: true });
    await rm(path.join(dir, 'segments'), { recursive: true });
    const before = await state(source);
    const result = await apply({ dir, client: local(source), prune: true });
    expect(segmentActions(result.plan)).toEqual([]);
    expect(await state(source)).toEqual(before);
  });

  describe('a bad file changes nothing and names the file and the field', () => {
    let ws: CreatedWorkspace;
    let dir: string;
    beforeAll(async () => {
      ws = await t.workspace('Bad');
      await addTopic(ws);
      await apply({ dir: pulled, client: local(ws) });
      dir = path.join(tmp.dir, 'bad');
      await cp(pulled, dir, { recursive: true });
      // Valid changes in the same directory, content and segment: they must not be applied either.
      await writeFile(path.join(dir, 'segments', 'extra.yaml'), 'key: extra\nname: Extra\nkind: manual\n');
      await writeFile(path.join(dir, 'templates', 'later.yaml'), 'name: later\nstatus: draft\nchannel: sms\nmarketing: false\nsms:\n  body: Later\n');
    });

    const cases: Array<[string, string, string, RegExp]> = [
      ['an unknown operator', 'bad', dynamic('bad', '  type: and\n  conditions:\n    - type: attribute\n      path: plan\n      op: equal\n      value: pro\n'),
        /^segments\/bad\.yaml: definition\.conditions\[0\]\.op: .*"equals"/m],
      ['a missing value', 'bad', dynamic('bad', '  type: attribute\n  path: age\n  op: gt\n'), /^segments\/bad\.yaml: definition\.value: "gt" needs a number "value"/m],
      ['an unknown field in the definition', 'bad', dynamic('bad', '  type: reachability\n  check: has_email\n  colour: red\n'), /^segments\/bad\.yaml: definition\.colour: unknown field/m],
      ['a dynamic segment without a definition', 'bad', 'key: bad\nname: Bad\nkind: dynamic\n', /^segments\/bad\.yaml: definition: required for a dynamic segment/m],
      ['a manual list with a definition', 'bad', 'key: bad\nname: Bad\nkind: manual\ndefinition:\n  type: and\n  conditions: []\n', /^segments\/bad\.yaml: definition: a manual list has no definition/m],
      ['no kind', 'bad', 'key: bad\nname: Bad\n', /^segments\/bad\.yaml: kind: required: dynamic or manual/m],
      ['a key that is not the file name', 'bad', 'key: other\nname: Bad\nkind: manual\n', /^segments\/bad\.yaml: key: must equal the file name "bad"/m],
      ['a file name that is not a key', 'Bad', 'key: Bad\nname: Bad\nkind: manual\n', /^segments\/Bad\.yaml: the file name must be a segment key/m],
      ['a reference to no segment', 'bad', dynamic('bad', refTo('nope')), /^segments\/bad\.yaml: definition\.segment: no segment "nope" in the files or on the server/m],
      ['a reference to itself', 'bad', dynamic('bad', refTo('bad')), /^segments\/bad\.yaml: definition\.segment: a segment cannot refer to itself/m],
      ['a reference to no template', 'bad', dynamic('bad', '  type: message\n  activity: opened\n  template: nope\n'),
        /^segments\/bad\.yaml: definition\.template: no template "nope" in the files or on the server/m],
      ['a reference to no topic', 'bad', dynamic('bad', '  type: topic\n  topic: nope\n'), /^segments\/bad\.yaml: definition\.topic: no topic "nope" in the workspace/m],
      ['a kind change', 'beta', 'key: beta\nname: Beta testers\nkind: dynamic\ndefinition:\n  type: and\n  conditions: []\n',
        /^segments\/beta\.yaml: kind: the server's segment "beta" is manual, and a segment cannot change kind/m],
    ];

    for (const [what, key, text, message] of cases) {
      it(what, async () => {
        const file = path.join(dir, 'segments', `${key}.yaml`);
        const original = await readFile(file, 'utf8').catch(() => undefined);
        const before = await state(ws);
        await writeFile(file, text);
        try {
          const err = await applyError(dir, local(ws));
          expect(err.code).toBe('ascode.invalid_file');
          expect(err.message).toMatch(message);
          expect(await state(ws)).toEqual(before);
        } finally {
          if (original === undefined) await rm(file);
          else await writeFile(file, original);
        }
      });
    }

    it('a cycle among the files', async () => {
      const before = await state(ws);
      await writeFile(path.join(dir, 'segments', 'c1.yaml'), dynamic('c1', refTo('c2')));
      await writeFile(path.join(dir, 'segments', 'c2.yaml'), dynamic('c2', refTo('c1')));
      const err = await applyError(dir, local(ws));
      expect(err.message.split('\n')).toEqual([
        'segments/c1.yaml: definition: segments refer to each other in a cycle: c1 -> c2 -> c1',
        'segments/c2.yaml: definition: segments refer to each other in a cycle: c2 -> c1 -> c2',
      ]);
      expect(await state(ws)).toEqual(before);
      await rm(path.join(dir, 'segments', 'c1.yaml'));
      await rm(path.join(dir, 'segments', 'c2.yaml'));
    });

    it('a reference to a segment that --prune deletes', async () => {
      await t.services.segments.create(ws.workspaceId, { key: 'server-only', name: 'Server only' });
      await writeFile(path.join(dir, 'segments', 'uses.yaml'), dynamic('uses', refTo('server-only')));
      const before = await state(ws);
      const err = await applyError(dir, local(ws), true);
      expect(err.message).toMatch(/^segments\/uses\.yaml: definition\.segment: segment "server-only" has no file, and --prune deletes it$/m);
      expect(await state(ws)).toEqual(before);
      // Without prune the reference is fine: the segment stays.
      const ok = await apply({ dir, client: local(ws), dryRun: true });
      expect(segmentActions(ok.plan)).toContainEqual(['create', 'uses']);
      await rm(path.join(dir, 'segments', 'uses.yaml'));
    });

    it('a limit only the server checks: its error keeps the code and field and names the file', async () => {
      // Eleven NOTs around a leaf: 12 deep, where the server allows 10. YAML takes JSON as it is.
      let deep: unknown = { type: 'reachability', check: 'has_email' };
      for (let i = 0; i < 11; i++) deep = { type: 'not', condition: deep };
      await writeFile(path.join(dir, 'segments', 'deep.yaml'), `key: deep\nname: Deep\nkind: dynamic\ndefinition: ${JSON.stringify(deep)}\n`);
      const err = await applyError(dir, local(ws));
      expect(err).toMatchObject({ code: 'segment.too_complex', field: 'definition' });
      expect(err.message).toMatch(/^segments\/deep\.yaml: POST \/api\/segments: .*\(field definition\)$/);
      await rm(path.join(dir, 'segments', 'deep.yaml'));
      // That apply stopped there: the template before it was created, the segment after it was not.
      expect(await t.services.content.getByName(ws.workspaceId, 'template', 'later')).toBeDefined();
      expect((await segmentState(ws)).map((s) => s.key)).not.toContain('extra');
      // With the file gone, a second apply resumes.
      const ok = await apply({ dir, client: local(ws) });
      expect(segmentActions(ok.plan)).toContainEqual(['create', 'extra']);
      expect((await segmentState(ws)).map((s) => s.key)).toContain('extra');
    });
  });
});
