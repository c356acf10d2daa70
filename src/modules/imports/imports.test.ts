// CSV import over HTTP: new and existing people, bad rows with their lines, quotes, BOM, update_only,
// dry runs, header errors, the two-step API, and workspaces kept apart.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import { until } from '../../../test/helpers/wait.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';
import { createImportService } from './service.ts';
import type { ImportView } from './types.ts';

type View = Omit<ImportView, 'createdAt' | 'startedAt' | 'finishedAt' | 'updatedAt'> & { createdAt: string; finishedAt: string | null };
interface ErrorJson { error: { code: string; message: string; field?: string } }

let t: TestTandem;
let ws: CreatedWorkspace;
let other: CreatedWorkspace;

beforeAll(async () => {
  t = await createTestTandem();
  ws = await t.workspace('Imports');
  other = await t.workspace('Other');
});
afterAll(async () => { await t.close(); });

function post(csv: string | Buffer, query = '', key = ws.appApiKey, contentType = 'text/csv') {
  return t.app.inject({ method: 'POST', url: `/api/imports/people${query}`, headers: { authorization: bearer(key), 'content-type': contentType }, payload: csv });
}

async function imported(csv: string | Buffer, query = ''): Promise<View> {
  const res = await post(csv, query);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<View>();
}

interface PersonRow { id: string; external_id: string | null; email: string | null; phone: string | null; attributes: Record<string, unknown>; identified: boolean }

async function person(by: { userId?: string; email?: string }, workspaceId = ws.workspaceId): Promise<PersonRow | undefined> {
  const res = by.userId !== undefined
    ? await sql<PersonRow>`SELECT p.id, p.external_id, p.email, p.phone, p.attributes, p.identified FROM person_identifiers i
        JOIN people p ON p.workspace_id = i.workspace_id AND p.id = i.person_id
        WHERE i.workspace_id = ${workspaceId} AND i.kind = 'user' AND i.value = ${by.userId}`.execute(t.services.db)
    : await sql<PersonRow>`SELECT id, external_id, email, phone, attributes, identified FROM people
        WHERE workspace_id = ${workspaceId} AND lower(email) = ${by.email?.toLowerCase()} ORDER BY created_at`.execute(t.services.db);
  return res.rows[0];
}

async function peopleCount(workspaceId = ws.workspaceId): Promise<number> {
  const res = await sql<{ n: number }>`SELECT count(*)::int AS n FROM people WHERE workspace_id = ${workspaceId}`.execute(t.services.db);
  return res.rows[0]?.n ?? -1;
}

describe('POST /api/imports/people', () => {
  it('creates and updates people; bad rows are reported with line and field, and every other row is imported', async () => {
    // Ann exists (identify), Bob exists by email only (no user id yet).
    const identify = await t.app.inject({
      method: 'POST', url: '/v1/identify', headers: { authorization: basic(ws.writeKey), 'content-type': 'application/json' },
      payload: { userId: 'u-ann', traits: { email: 'ann@example.com', plan: 'free', city: 'Oslo' } },
    });
    expect(identify.statusCode).toBe(200);
    expect((await imported('email\nbob@example.com\n')).rowsCreated).toBe(1);
    const bob = await person({ email: 'bob@example.com' });
    expect(bob?.external_id).toBeNull();
    const before = await peopleCount();

    const csv = [
      'id,email,plan,age:number,vip:boolean,note', // 1
      'u-ann,,pro,41,yes,"said ""hi"", twice"', // 2
      'u-new,New@Example.com,trial,,no,"line one', // 3
      'line two"', // 4
      'u-bad,not-an-email,pro,1,,', // 5
      'u-age,,pro,forty,,', // 6
      ',,,,,', // 7
      'u-bob,bob@example.com,team,,,', // 8
      'u-short,short@example.com', // 9
      'u-last,,"quoted, comma",7,0,', // 10
    ].join('\n');
    const v = await imported(csv, '?file_name=people.csv');
    expect(v).toMatchObject({
      status: 'done', fileName: 'people.csv', rowsDone: 8, rowsCreated: 2, rowsUpdated: 2, rowsSkipped: 0, rowsFailed: 4, failure: null,
      bytesRead: Buffer.byteLength(csv),
    });
    expect(v.errors.map((e) => [e.line, e.field, e.code])).toEqual([
      [5, 'email', 'invalid_email'], [6, 'age:number', 'invalid_number'], [7, null, 'missing_identity'], [9, null, 'column_count'],
    ]);
    expect(v.errors[1]?.message).toBe('age:number: "forty" is not a number');
    expect(await peopleCount()).toBe(before + 2);

    const ann = await person({ userId: 'u-ann' });
    expect(ann).toMatchObject({ email: 'ann@example.com', identified: true });
    // Merged into what identify stored: city kept, plan replaced, empty cells left alone.
    expect(ann?.attributes).toMatchObject({ city: 'Oslo', plan: 'pro', age: 41, vip: true, note: 'said "hi", twice' });
    expect(await person({ userId: 'u-new' })).toMatchObject({ email: 'New@Example.com', attributes: { plan: 'trial', vip: false, note: 'line one\nline two' } });
    // Bob's email person gained the user id instead of a second Bob being created.
    expect(await person({ userId: 'u-bob' })).toMatchObject({ id: bob?.id, external_id: 'u-bob', attributes: { plan: 'team' } });
    expect((await person({ userId: 'u-last' }))?.attributes).toEqual({ plan: 'quoted, comma', age: 7, vip: false });
    for (const missing of ['u-bad', 'u-age', 'u-short']) expect(await person({ userId: missing })).toBeUndefined();
  });

  it('strips a BOM, reads CRLF files and counts source lines across quoted line breaks', async () => {
    const csv = '\ufeffid,Email,bio\r\nb-1,b1@example.com,"two\r\nlines"\r\n\r\nb-2,broken,x\r\nb-3,,"a ""b"" c"\r\n';
    const v = await imported(csv);
    expect(v).toMatchObject({ rowsCreated: 2, rowsFailed: 1 });
    expect(v.errors.map((e) => [e.line, e.field])).toEqual([[5, 'Email']]);
    expect((await person({ userId: 'b-1' }))?.attributes).toEqual({ bio: 'two\r\nlines' });
    expect((await person({ userId: 'b-3' }))?.attributes).toEqual({ bio: 'a "b" c' });
  });

  it('one person per id however often the file names them (later rows win), across chunks too', async () => {
    const small = createImportService({ db: t.services.db, clock: t.services.clock, log: t.services.log, consent: t.services.consent, chunkSize: 2 });
    const csv = 'id,email,n:number\nd-1,d1@example.com,1\nd-2,,2\nd-1,,3\nd-1,,4\n,d1@example.com,5\n';
    const imp = await small.create(ws.workspaceId, { type: 'people' });
    const { Readable } = await import('node:stream');
    const v = await small.run(ws.workspaceId, imp.id, Readable.from([csv]));
    expect(v).toMatchObject({ status: 'done', rowsDone: 5, rowsCreated: 2, rowsUpdated: 3, rowsFailed: 0 });
    expect((await person({ userId: 'd-1' }))?.attributes).toEqual({ n: 5 });
    const res = await sql<{ n: number }>`SELECT count(*)::int AS n FROM people WHERE workspace_id = ${ws.workspaceId} AND lower(email) = 'd1@example.com'`.execute(t.services.db);
    expect(res.rows[0]?.n).toBe(1);
  });

  it('update_only updates the people it finds and skips the others; dry_run writes nothing', async () => {
    await imported('id,email,phone\nuo-1,uo1@example.com,\n,,+47 400 00 001\n');
    const before = await peopleCount();
    const v = await imported('id,email,phone,tier\nuo-1,,,gold\nuo-2,,,gold\n,uo-nobody@example.com,,gold\n,,+47 400 00 001,silver\n', '?update_only=true');
    expect(v).toMatchObject({ status: 'done', rowsDone: 4, rowsCreated: 0, rowsUpdated: 2, rowsSkipped: 2, rowsFailed: 0, options: { updateOnly: true } });
    expect(v.errors.map((e) => [e.line, e.code])).toEqual([[3, 'not_found'], [4, 'not_found']]);
    expect(await peopleCount()).toBe(before);
    expect((await person({ userId: 'uo-1' }))?.attributes).toEqual({ tier: 'gold' });
    const byPhone = await sql<{ attributes: Record<string, unknown> }>`SELECT attributes FROM people WHERE workspace_id = ${ws.workspaceId} AND phone = '+47 400 00 001'`.execute(t.services.db);
    expect(byPhone.rows.map((r) => r.attributes)).toEqual([{ tier: 'silver' }]);

    const dry = await imported('id,tier,age:number\nuo-1,platinum,1\ndry-new,x,2\ndry-bad,x,no\n', '?dry_run=1');
    expect(dry).toMatchObject({ status: 'done', rowsDone: 3, rowsCreated: 1, rowsUpdated: 1, rowsFailed: 1, options: { dryRun: true } });
    expect(await peopleCount()).toBe(before);
    expect((await person({ userId: 'uo-1' }))?.attributes).toEqual({ tier: 'gold' });
  });

  it('refuses a bad header before importing anything, naming the column', async () => {
    const before = await peopleCount();
    const cases: Array<[string, string, string]> = [
      ['name,plan\nAnn,pro\n', 'import.bad_header', 'header'],
      ['id,age:integer\nu,1\n', 'import.bad_header', 'age:integer'],
      ['id,plan,plan\nu,a,b\n', 'import.bad_header', 'plan'],
      ['', 'import.bad_header', 'header'],
      ['id,topic:nope\nu,yes\n', 'import.unknown_topic', 'topic:nope'],
    ];
    for (const [csv, code, field] of cases) {
      const res = await post(csv);
      expect(res.statusCode, csv).toBe(400);
      expect(res.json<ErrorJson>().error).toMatchObject({ code, field });
    }
    expect(await peopleCount()).toBe(before);
    const list = await t.app.inject({ method: 'GET', url: '/api/imports?limit=1', headers: { authorization: bearer(ws.appApiKey) } });
    expect(list.json<{ imports: View[] }>().imports[0]).toMatchObject({ status: 'failed', rowsDone: 0, failure: { code: 'import.unknown_topic', line: 1 } });
  });

  it('stops at a quote that never closes, keeping the rows before it and saying where', async () => {
    const v = await imported('id,note\nq-1,fine\nq-2,"fine too"\nq-3,"never closed\nq-4,lost\n');
    expect(v).toMatchObject({ status: 'failed', rowsDone: 2, rowsCreated: 2, failure: { code: 'csv_syntax', line: 4 } });
    expect(v.failure?.message).toMatch(/after line 3: a quoted field is never closed/);
    expect(await person({ userId: 'q-2' })).toBeDefined();
    expect(await person({ userId: 'q-4' })).toBeUndefined();
  });

  it('refuses bodies that are not CSV', async () => {
    const res = await post('{"id":"x"}', '', ws.appApiKey, 'application/json');
    expect(res.statusCode).toBe(415);
    expect(res.json<ErrorJson>().error.code).toBe('request.unsupported_media_type');
    const noKey = await t.app.inject({ method: 'POST', url: '/api/imports/people', headers: { 'content-type': 'text/csv' }, payload: 'id\nx\n' });
    expect(noKey.statusCode).toBe(401);
  });
});

describe('two-step imports and progress', () => {
  it('POST /api/imports, then PUT the file; a second PUT is refused; other workspaces see nothing', async () => {
    const auth = { authorization: bearer(ws.appApiKey) };
    const created = await t.app.inject({ method: 'POST', url: '/api/imports', headers: auth, payload: { type: 'people', fileName: 'x.csv' } });
    expect(created.statusCode).toBe(201);
    const imp = created.json<View>();
    expect(imp).toMatchObject({ status: 'waiting', rowsDone: 0, fileName: 'x.csv', options: { list: null, updateOnly: false, dryRun: false } });
    expect(imp.id).toMatch(/^imp_[0-9a-f]{20}$/);

    const put = (key: string, id = imp.id) => t.app.inject({
      method: 'PUT', url: `/api/imports/${id}/csv`, headers: { authorization: bearer(key), 'content-type': 'text/csv' }, payload: 'id,x\ntwo-1,1\ntwo-2,2\n',
    });
    const foreign = await put(other.appApiKey);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json<ErrorJson>().error).toMatchObject({ code: 'import.not_found', field: 'id' });
    const done = await put(ws.appApiKey);
    expect(done.statusCode).toBe(200);
    expect(done.json<View>()).toMatchObject({ id: imp.id, status: 'done', rowsCreated: 2 });
    expect(done.json<View>().finishedAt).not.toBeNull();
    const again = await put(ws.appApiKey);
    expect(again.statusCode).toBe(409);
    expect(again.json<ErrorJson>().error.code).toBe('import.not_waiting');

    const mine = await t.app.inject({ method: 'GET', url: `/api/imports/${imp.id}`, headers: auth });
    expect(mine.json<View>()).toMatchObject({ status: 'done', rowsCreated: 2 });
    const theirs = await t.app.inject({ method: 'GET', url: `/api/imports/${imp.id}`, headers: { authorization: bearer(other.appApiKey) } });
    expect(theirs.statusCode).toBe(404);
    const theirList = await t.app.inject({ method: 'GET', url: '/api/imports', headers: { authorization: bearer(other.appApiKey) } });
    expect(theirList.json<{ imports: View[] }>().imports).toEqual([]);
    expect(await person({ userId: 'two-1' }, other.workspaceId)).toBeUndefined();
  });

  it('GET /api/imports/:id shows the rows done while the file is still arriving', async () => {
    const { PassThrough } = await import('node:stream');
    const imp = await t.services.imports.create(ws.workspaceId, { type: 'people' });
    const body = new PassThrough();
    const running = t.services.imports.run(ws.workspaceId, imp.id, body);
    body.write('id,n:number\n');
    for (let i = 0; i < 10; i++) body.write(`p-${i},${i}\n`);
    body.write('p-bad,x\n');
    // Rows waiting for more than a second (since the server's last write, a moment this test cannot
    // see) go out with the next row to arrive, without a full chunk: a row every 300 ms until they have.
    let next = 10;
    const seen = await until(async () => {
      const now = (await t.app.inject({ method: 'GET', url: `/api/imports/${imp.id}`, headers: { authorization: bearer(ws.appApiKey) } })).json<View>();
      if (now.rowsDone > 0) return now;
      body.write(`p-${next},${next}\n`);
      next++;
      return false;
    }, 'the first rows to be committed', { intervalMs: 300 });
    // The parser holds the last line that has arrived until it sees what follows it: p-bad is in.
    expect(seen).toMatchObject({ status: 'running', rowsFailed: 1, finishedAt: null });
    expect(seen.rowsDone).toBeGreaterThanOrEqual(11);
    expect(seen.rowsCreated).toBe(seen.rowsDone - 1);
    expect(seen.errors.map((e) => [e.line, e.field, e.code])).toEqual([[12, 'n:number', 'invalid_number']]);
    body.end(`p-${next},${next}\n`);
    const total = next + 2; // p-0 … p-<next>, and p-bad
    expect(await running).toMatchObject({ status: 'done', rowsDone: total, rowsCreated: total - 1, rowsFailed: 1 });
  });
});

describe('two chunks at once', () => {
  it('gives the same people as writing chunk after chunk, on a file naming people many ways', async () => {
    // 3,000 rows over 300 people, each named by id, by email, by both or by phone, in random order, in
    // chunks of 25: chunks share keys and people all the time, and two are written at once when they may.
    let seed = 7;
    const PEOPLE = 300;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const lines = ['id,email,phone,n:number,tag'];
    for (let i = 0; i < 3000; i++) {
      const p = rand(PEOPLE);
      const how = rand(4);
      const id = how === 0 || how === 2 ? `mix-${p}` : '';
      const email = how === 1 || how === 2 ? `mix${p}@example.com` : '';
      const phone = how === 3 ? `+47 500 ${String(p).padStart(5, '0')}` : '';
      lines.push(`${id},${email},${phone},${i},t${rand(5)}`);
    }
    const csv = `${lines.join('\n')}\n`;
    const { Readable } = await import('node:stream');
    const snapshot = async (lanes: number) => {
      const target = await t.workspace(`Lanes ${lanes}`);
      const service = createImportService({ db: t.services.db, clock: t.services.clock, log: t.services.log, consent: t.services.consent, chunkSize: 25, lanes });
      const imp = await service.create(target.workspaceId, { type: 'people' });
      const v = await service.run(target.workspaceId, imp.id, Readable.from([csv]));
      expect(v).toMatchObject({ status: 'done', rowsDone: 3000, rowsFailed: 0 });
      const res = await sql<{ external_id: string | null; email: string | null; phone: string | null; attributes: Record<string, unknown> }>`
        SELECT external_id, email, phone, attributes FROM people WHERE workspace_id = ${target.workspaceId}
        ORDER BY external_id NULLS LAST, email NULLS LAST, phone NULLS LAST`.execute(t.services.db);
      return { created: v.rowsCreated, people: res.rows };
    };
    const serial = await snapshot(1);
    const parallel = await snapshot(2);
    expect(parallel).toEqual(serial);
    expect(serial.people.length).toBe(serial.created);
  }, 60_000);
});
