// `tandem import people FILE.csv` as a user runs it: the real bin against a Tandem on a real port.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from './harness.ts';
import { tempDir } from './helpers/ascode.ts';
import { parseOneJson, runTandem } from './helpers/process.ts';
import { until } from './helpers/wait.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

let t: TestTandem;
let ws: CreatedWorkspace;
let tmp: { dir: string; remove(): Promise<void> };

beforeAll(async () => {
  t = await createTestTandem({ listen: true });
  ws = await t.workspace('Import CLI');
  tmp = await tempDir();
});
afterAll(async () => {
  await t.close();
  await tmp.remove();
});

async function file(name: string, text: string): Promise<string> {
  const p = path.join(tmp.dir, name);
  await writeFile(p, text);
  return p;
}

async function externalIds(): Promise<string[]> {
  const res = await sql<{ external_id: string }>`SELECT external_id FROM people WHERE workspace_id = ${ws.workspaceId} ORDER BY external_id`.execute(t.services.db);
  return res.rows.map((r) => r.external_id);
}

describe('tandem import people', () => {
  it('imports the file, shows progress on stderr, prints the summary and the bad rows, and exits 1 when rows failed', async () => {
    const csv = await file('people.csv', '\ufeffid,email,age:number\ncli-1,one@example.com,30\ncli-2,"two\n@example.com",31\ncli-3,three@example.com,old\ncli-4,,33\n');
    const r = await runTandem(['import', 'people', csv, '--url', t.baseUrl, '--key', ws.appApiKey, '--workspace', ws.workspaceId], {});
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^progress: \d+%/m);
    expect(r.stdout).toMatch(/^import imp_[0-9a-f]{20} done: 4 rows, 2 created, 0 updated, 0 skipped, 2 failed \(0\.0 MB, [\d.]+ s, [\d,]+ rows\/s\)$/m);
    expect(r.stdout).toContain('  line 3  email  invalid_email  email: "two\n@example.com" is not an email address');
    expect(r.stdout).toContain('  line 5  age:number  invalid_number  age:number: "old" is not a number');
    expect(await externalIds()).toEqual(['cli-1', 'cli-4']);
  }, 180_000); // CLI processes start slowly on a loaded machine

  it('reads the server and key from TANDEM_URL / TANDEM_APP_KEY, prints JSON, and exits 0 when every row is in', async () => {
    const csv = await file('more.csv', 'id,plan\ncli-1,pro\ncli-5,free\n');
    const r = await runTandem(['import', 'people', csv, '--json'], { TANDEM_URL: t.baseUrl, TANDEM_APP_KEY: ws.appApiKey });
    expect(r.code, r.stderr).toBe(0);
    expect(parseOneJson(r.stdout)).toMatchObject({ status: 'done', rowsDone: 2, rowsCreated: 1, rowsUpdated: 1, rowsFailed: 0, fileName: 'more.csv' });
    expect(await externalIds()).toEqual(['cli-1', 'cli-4', 'cli-5']);
  }, 180_000); // CLI processes start slowly on a loaded machine

  it('fails clearly, naming the code, on a bad header, a wrong workspace, a bad key and a missing file', async () => {
    const bad = await file('bad.csv', 'name,plan\nAnn,pro\n');
    const good = await file('good.csv', 'id\ncli-9\n');
    const [header, workspace, key, missing] = await Promise.all([
      runTandem(['import', 'people', bad, '--url', t.baseUrl, '--key', ws.appApiKey], {}),
      runTandem(['import', 'people', good, '--url', t.baseUrl, '--key', ws.appApiKey, '--workspace', 'ws_other'], {}),
      runTandem(['import', 'people', good, '--url', t.baseUrl, '--key', 'tdm_app_nope'], {}),
      runTandem(['import', 'people', path.join(tmp.dir, 'nope.csv'), '--url', t.baseUrl, '--key', ws.appApiKey], {}),
    ]);
    expect(header.code).toBe(1);
    expect(header.stderr).toMatch(/^tandem: The header row names none of the identifying columns: id, email, phone\. \(field header\) \[import\.bad_header\]$/m);
    expect(workspace.code).toBe(1);
    expect(workspace.stderr).toContain(`tandem: --workspace ws_other: the key belongs to workspace ${ws.workspaceId}`);
    expect(key.code).toBe(1);
    expect(key.stderr).toMatch(/\[auth\.invalid\]$/m);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.csv: no such file/);
    for (const r of [header, workspace, key, missing]) expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(await externalIds()).toEqual(['cli-1', 'cli-4', 'cli-5']);
  }, 180_000); // CLI processes start slowly on a loaded machine
});

describe('an upload cut off half-way', () => {
  it('ends the import as failed (upload_aborted), keeping the whole rows that had arrived', async () => {
    const http = await import('node:http');
    const imp = await t.services.imports.create(ws.workspaceId, { type: 'people' });
    const url = new URL(`${t.baseUrl}/api/imports/${imp.id}/csv`);
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname, method: 'PUT',
      headers: { authorization: `Bearer ${ws.appApiKey}`, 'content-type': 'text/csv', 'content-length': '100000' },
    });
    req.on('error', () => undefined);
    // Whole rows go out, one more every 50 ms, until the import has committed some: then they have
    // surely arrived (the server writes what it read once a second). Then half a row, and the cut.
    const sent = ['cut-1', 'cut-2'];
    req.write(`id,plan\n${sent.map((id) => `${id},pro\n`).join('')}`);
    await until(async () => {
      if ((await t.services.imports.get(ws.workspaceId, imp.id)).rowsDone >= 2) return true;
      const id = `cut-${sent.length + 1}`;
      sent.push(id);
      req.write(`${id},pro\n`);
      return false;
    }, 'the import to commit the first rows', { intervalMs: 50 });
    req.write('cut-partial,pr');
    req.destroy();
    const v = await until(async () => {
      const now = await t.services.imports.get(ws.workspaceId, imp.id);
      return now.status !== 'running' && now;
    }, 'the import to end');
    expect(v).toMatchObject({ status: 'failed', failure: { code: 'upload_aborted', line: null } });
    // What was kept is whole rows, in order from the first, all counted: rows read after the last
    // commit may have been lost with the connection, a half row never stored.
    const kept = (await externalIds()).filter((id) => id.startsWith('cut-'));
    expect(kept).not.toContain('cut-partial');
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(new Set(kept)).toEqual(new Set(sent.slice(0, kept.length)));
    expect(v).toMatchObject({ rowsDone: kept.length, rowsCreated: kept.length });
  }, 30_000);
});
