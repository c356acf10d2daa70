// What an import does besides people: topic consent (ledger source `import`, hooks), manual lists and
// dirty marks through the ImportListSink, suppressed people left deleted, and a poison row failing alone.
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import type { Tx } from '../../db/pool.ts';
import { AppError } from '../../errors.ts';
import type { ConsentChange } from '../consent/index.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';
import { createImportService } from './service.ts';
import { createChunkWriter } from './writer.ts';
import type { ImportListSink, ImportView } from './types.ts';

interface ErrorJson { error: { code: string; message: string; field?: string } }

let t: TestTandem;
let ws: CreatedWorkspace;
const changes: ConsentChange[] = [];
const dirty: Array<{ ids: string[]; what: string[] }> = [];

/** Manual lists on the segments tables, as the segments service keeps them. */
const sink: ImportListSink = {
  async resolveList(workspaceId, idOrKey) {
    const row = await t.services.db.selectFrom('segments').select(['id', 'kind']).where('workspace_id', '=', workspaceId)
      .where((eb) => eb.or([eb('id', '=', idOrKey), eb('key', '=', idOrKey)])).executeTakeFirst();
    if (!row) throw new AppError('segment.not_found', undefined, { field: 'list' });
    if (row.kind !== 'manual') throw new AppError('segment.not_manual', undefined, { field: 'list' });
    return { id: row.id };
  },
  async addToList(tx: Tx, workspaceId, listId, personIds, reason) {
    const added = await sql<{ person_id: string }>`
      INSERT INTO segment_members (workspace_id, segment_id, person_id, entered_at)
      SELECT ${workspaceId}, ${listId}, p, now() FROM unnest(${personIds}::uuid[]) AS p
      ON CONFLICT DO NOTHING RETURNING person_id`.execute(tx);
    for (const r of added.rows) {
      await tx.insertInto('segment_changes').values({ workspace_id: workspaceId, segment_id: listId, person_id: r.person_id, change: 'entered', reason, at: new Date() }).execute();
    }
    return added.rows.length;
  },
  markDirty(_tx, _ws, ids, what) {
    dirty.push({ ids: [...ids], what });
    return Promise.resolve();
  },
};

async function segment(key: string, kind: 'manual' | 'dynamic'): Promise<void> {
  await t.services.db.insertInto('segments').values({
    workspace_id: ws.workspaceId, id: `seg_${key}`, key, name: key, kind, definition: null, deps: '{}', time_based: false,
    created_at: new Date(), updated_at: new Date(),
  }).execute();
}

function post(csv: string, query = '') {
  return t.app.inject({ method: 'POST', url: `/api/imports/people${query}`, headers: { authorization: bearer(ws.appApiKey), 'content-type': 'text/csv' }, payload: csv });
}

async function personId(userId: string): Promise<string | undefined> {
  return t.services.people.find(ws.workspaceId, { userId });
}

beforeAll(async () => {
  t = await createTestTandem();
  ws = await t.workspace('Import effects');
  t.services.imports.useLists(sink);
  t.services.consent.onChange((_tx, c) => {
    changes.push(c);
    return Promise.resolve();
  });
  await t.services.consent.createTopic(ws.workspaceId, { key: 'news', name: 'News', default: 'opt_in', channel: 'email' });
  await t.services.consent.createTopic(ws.workspaceId, { key: 'tips', name: 'Tips', default: 'opt_out', channel: 'any' });
});
afterAll(async () => { await t.close(); });

describe('topic consent', () => {
  it('sets topic states with source import in the ledger, one hook call per change, nothing for unchanged states', async () => {
    changes.length = 0;
    dirty.length = 0;
    const csv = 'id,email,phone,topic:news,topic:tips\nc-1,c1@example.com,,yes,no\nc-2,,+4740000002,unsubscribed,\nc-3,c3@example.com,,,1\n';
    const res = await post(csv);
    expect(res.statusCode).toBe(201);
    const [c1, c2, c3] = [await personId('c-1'), await personId('c-2'), await personId('c-3')];
    // news is opt_in (default unsubscribed): c-2's "unsubscribed" changes nothing; tips is opt_out (default subscribed): c-3's "1" neither.
    expect(changes.map((c) => [c.personId, c.topic, c.from, c.to, c.source, c.address])).toEqual([
      [c1, 'news', 'unsubscribed', 'subscribed', 'import', 'c1@example.com'],
      [c1, 'tips', 'subscribed', 'unsubscribed', 'import', 'c1@example.com'],
    ]);
    const ledger = await t.services.consent.ledger(ws.workspaceId, { personId: c1 });
    expect(ledger.map((e) => [e.topic, e.to, e.source, e.id])).toEqual([
      ['tips', 'unsubscribed', 'import', changes[1]?.ledgerId], ['news', 'subscribed', 'import', changes[0]?.ledgerId],
    ]);
    const state = await t.services.consent.state(ws.workspaceId, c1 ?? '');
    expect(state.topics.map((x) => [x.key, x.state, x.explicit])).toEqual([['news', 'subscribed', true], ['tips', 'unsubscribed', true]]);
    expect(await t.services.consent.ledger(ws.workspaceId, { personId: c2 })).toEqual([]);
    expect(await t.services.consent.ledger(ws.workspaceId, { personId: c3 })).toEqual([]);
    expect(dirty).toContainEqual({ ids: [c1], what: ['consent'] });
    // New people: every dynamic segment evaluates them (they may match by what they never did).
    expect(dirty.find((d) => d.what[0] === 'created')?.ids.sort()).toEqual([c1, c2, c3].sort());
    expect(dirty.some((d) => d.what[0] === 'attributes')).toBe(false);

    // The same file again: no state changes, no ledger rows, nothing dirty.
    changes.length = 0;
    dirty.length = 0;
    expect((await post(csv)).json<ImportView>()).toMatchObject({ status: 'done', rowsUpdated: 3 });
    expect(changes).toEqual([]);
    expect(dirty).toEqual([]);
  });
});

describe('manual lists', () => {
  it('adds every imported person to the list (entered, reason import), created or updated', async () => {
    await segment('vip', 'manual');
    await segment('active', 'dynamic');
    const res = await post('id,email\nc-1,\nl-1,l1@example.com\nl-2,\nl-bad,bad-email\n', '?list=vip');
    expect(res.statusCode).toBe(201);
    expect(res.json<ImportView>()).toMatchObject({ options: { list: { id: 'seg_vip', ref: 'vip' } }, rowsCreated: 2, rowsUpdated: 1, rowsFailed: 1 });
    const members = await sql<{ external_id: string; reason: string }>`
      SELECT p.external_id, c.reason FROM segment_members m
      JOIN people p ON p.workspace_id = m.workspace_id AND p.id = m.person_id
      JOIN segment_changes c ON c.workspace_id = m.workspace_id AND c.segment_id = m.segment_id AND c.person_id = m.person_id
      WHERE m.workspace_id = ${ws.workspaceId} AND m.segment_id = 'seg_vip' ORDER BY p.external_id`.execute(t.services.db);
    expect(members.rows).toEqual([{ external_id: 'c-1', reason: 'import' }, { external_id: 'l-1', reason: 'import' }, { external_id: 'l-2', reason: 'import' }]);

    const dynamic = await post('id\nl-3\n', '?list=active');
    expect(dynamic.statusCode).toBe(409);
    expect(dynamic.json<ErrorJson>().error).toMatchObject({ code: 'segment.not_manual', field: 'list' });
    const missing = await post('id\nl-3\n', '?list=nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json<ErrorJson>().error.code).toBe('segment.not_found');
    expect(await personId('l-3')).toBeUndefined();
  });

  it('without the segments module connected, an import with a list is refused clearly', async () => {
    const bare = createImportService({ db: t.services.db, clock: t.services.clock, log: t.services.log, consent: t.services.consent });
    await expect(bare.create(ws.workspaceId, { type: 'people', list: 'vip' })).rejects.toMatchObject({
      code: 'segment.not_found', message: expect.stringContaining('not connected') as unknown,
    });
  });
});

describe('deleted people', () => {
  it('does not bring back a deleted-and-suppressed person, by id or by email, and says so', async () => {
    await post('id,email\ngone-1,gone1@example.com\ngone-2,gone2@example.com\n');
    await t.services.people.deleteAndSuppress(ws.workspaceId, { userId: 'gone-1' });
    await t.services.people.deleteAndSuppress(ws.workspaceId, { userId: 'gone-2' });
    const v = (await post('id,email,plan\ngone-1,,pro\n,Gone2@example.com,pro\nstays,,pro\n')).json<ImportView>();
    expect(v).toMatchObject({ status: 'done', rowsDone: 3, rowsCreated: 1, rowsSkipped: 2, rowsFailed: 0 });
    expect(v.errors.map((e) => [e.line, e.code])).toEqual([[2, 'suppressed'], [3, 'suppressed']]);
    expect(await personId('gone-1')).toBeUndefined();
    const byEmail = await sql<{ n: number }>`SELECT count(*)::int AS n FROM people WHERE workspace_id = ${ws.workspaceId} AND lower(email) = 'gone2@example.com'`.execute(t.services.db);
    expect(byEmail.rows[0]?.n).toBe(0);
  });
});

describe('a row the database refuses', () => {
  it('fails alone, with its line; the rest of its chunk is written', async () => {
    const imp = await t.services.imports.create(ws.workspaceId, { type: 'people' });
    const writer = createChunkWriter({
      db: t.services.db, clock: t.services.clock, consent: t.services.consent, lists: undefined, ws: ws.workspaceId,
      importId: imp.id, options: imp.options, bytes: () => 0,
    });
    // A lone surrogate cannot come out of a UTF-8 file, but PostgreSQL's jsonb refuses it: a stand-in for any poison value.
    const rows = Array.from({ length: 9 }, (_, i) => ({
      line: i + 2, topics: null, person: { userId: `poison-${i}`, attributes: { v: i === 6 ? 'bad \ud800' : 'ok' } },
    }));
    await writer.write(rows, [{ line: 11, field: 'x', code: 'invalid_number', message: 'x: "y" is not a number' }]);
    const v = await t.services.imports.get(ws.workspaceId, imp.id);
    expect(v).toMatchObject({ rowsDone: 10, rowsCreated: 8, rowsFailed: 2 });
    expect(v.errors.map((e) => [e.line, e.code])).toEqual([[8, 'write_failed'], [11, 'invalid_number']]);
    expect(v.errors[0]?.message).toMatch(/^The row could not be written: /);
    for (let i = 0; i < 9; i++) expect(await personId(`poison-${i}`) !== undefined, `poison-${i}`).toBe(i !== 6);
  });

  it('runs a whole import through importPeopleCsv', async () => {
    const { importPeopleCsv } = await import('./index.ts');
    const v = await importPeopleCsv(t.services.imports, ws.workspaceId, Readable.from(['id,n:number\nfn-1,1\n']), { fileName: 'f.csv' });
    expect(v).toMatchObject({ status: 'done', rowsCreated: 1, fileName: 'f.csv' });
  });
});
