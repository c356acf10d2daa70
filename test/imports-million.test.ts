// A million-row CSV import over HTTP on a real port: the file is generated into a temp file by
// streaming, streamed up, and never held whole in memory on either side. Prints rows/s.
// TANDEM_IMPORT_ROWS overrides the row count (for a quicker local run); unset, it is 1,000,000.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from './harness.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

const ROWS = Number(process.env.TANDEM_IMPORT_ROWS ?? 1_000_000);
/** Every this-many-th row has a bad age: the import must report each and import the rest. */
const BAD_EVERY = 100_000;

let t: TestTandem;
let ws: CreatedWorkspace;
let dir: string;

beforeAll(async () => {
  t = await createTestTandem({ listen: true });
  ws = await t.workspace('Million');
  dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-import-'));
});
afterAll(async () => {
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

function* csv(rows: number): Generator<string> {
  yield 'id,email,first_name,plan,age:number,vip:boolean,note\n';
  let buf = '';
  for (let i = 1; i <= rows; i++) {
    const age = i % BAD_EVERY === 0 ? 'unknown' : String(18 + (i % 60));
    // Every 1,000th note is quoted, with a comma, an escaped quote and a line break.
    const note = i % 1000 === 0 ? `"note ${i}, ""quoted""\nsecond line"` : `n${i}`;
    buf += `m-${i},person${i}@example.com,Name ${i},${i % 3 === 0 ? 'pro' : 'free'},${age},${i % 2 === 0 ? 'true' : 'false'},${note}\n`;
    if (buf.length > 1 << 16) {
      yield buf;
      buf = '';
    }
  }
  yield buf;
}

/** Line of row i: the header is line 1, and each quoted note before row i added a line. */
const lineOf = (i: number) => i + 1 + Math.floor((i - 1) / 1000);

describe(`CSV import of ${ROWS.toLocaleString('en')} rows`, () => {
  it('imports every good row, reports every bad one by line, and prints rows/s', async () => {
    const file = path.join(dir, 'people.csv');
    await pipeline(Readable.from(csv(ROWS)), createWriteStream(file));
    const bytes = (await stat(file)).size;

    const started = performance.now();
    // The answer comes when the file is imported: no 300 s header timeout (undici's default) on a busy machine.
    const res = await fetch(`${t.baseUrl}/api/imports/people?file_name=people.csv`, {
      method: 'POST', headers: { authorization: bearer(ws.appApiKey), 'content-type': 'text/csv' },
      body: createReadStream(file), duplex: 'half', dispatcher: new Agent({ headersTimeout: 0, bodyTimeout: 0 }),
    });
    const seconds = (performance.now() - started) / 1000;
    const v = await res.json() as { status: string; rowsDone: number; rowsCreated: number; rowsFailed: number; bytesRead: number; errors: Array<{ line: number; field: string; code: string }> };
    const rate = Math.round(ROWS / seconds);
    process.stdout.write(`[imports] ${ROWS} rows (${(bytes / 1e6).toFixed(1)} MB) in ${seconds.toFixed(1)} s: ${rate} rows/s\n`);

    const bad = Math.floor(ROWS / BAD_EVERY);
    expect(res.status).toBe(201);
    expect(v).toMatchObject({ status: 'done', rowsDone: ROWS, rowsCreated: ROWS - bad, rowsFailed: bad, bytesRead: bytes });
    expect(v.errors.map((e) => [e.line, e.field, e.code])).toEqual(
      Array.from({ length: bad }, (_, k) => [lineOf((k + 1) * BAD_EVERY), 'age:number', 'invalid_number']));

    const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM people WHERE workspace_id = ${ws.workspaceId}`.execute(t.services.db);
    expect(count.rows[0]?.n).toBe(ROWS - bad);
    const spots = [1, 1000, Math.ceil(ROWS / 2) + 1, ROWS - 1].filter((i) => i % BAD_EVERY !== 0);
    const found = await sql<{ external_id: string; email: string; attributes: Record<string, unknown> }>`
      SELECT p.external_id, p.email, p.attributes FROM person_identifiers i JOIN people p ON p.workspace_id = i.workspace_id AND p.id = i.person_id
      WHERE i.workspace_id = ${ws.workspaceId} AND i.kind = 'user' AND i.value = ANY(${spots.map((i) => `m-${i}`)}::text[])
      ORDER BY p.created_at, p.external_id`.execute(t.services.db);
    const want = spots.map((i) => ({
      external_id: `m-${i}`, email: `person${i}@example.com`,
      attributes: {
        first_name: `Name ${i}`, plan: i % 3 === 0 ? 'pro' : 'free', age: 18 + (i % 60), vip: i % 2 === 0,
        note: i % 1000 === 0 ? `note ${i}, "quoted"\nsecond line` : `n${i}`,
      },
    }));
    expect([...found.rows].sort((a, b) => a.external_id.localeCompare(b.external_id))).toEqual(want.sort((a, b) => a.external_id.localeCompare(b.external_id)));
  }, 600_000);
});
