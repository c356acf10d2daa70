// The `tandem` CLI as a user runs it: real processes, stdout for output, stderr and the exit code
// for errors. Against a fresh database on DATABASE_URL's server when set, else the embedded one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './harness.ts';
import { parseOneJson, postmasters, runOk, runTandem, tempDataDir, type Env } from './helpers/process.ts';

let env: Env;
let cleanup: () => Promise<void>;
let pgdata: string | undefined;
/** stdout of `tandem workspace create Acme --json`; every test uses this workspace (CLI runs are slow). */
let createdOutput: string;
let ws: Record<string, unknown>;

beforeAll(async () => {
  if (process.env.DATABASE_URL) {
    const db = await createTestDatabase();
    env = { DATABASE_URL: db.url };
    cleanup = () => db.drop();
  } else {
    const d = await tempDataDir();
    env = { TANDEM_DATA_DIR: d.dir };
    pgdata = d.pgdata;
    cleanup = () => d.remove();
  }
  createdOutput = await runOk(['workspace', 'create', 'Acme', '--json'], env);
  ws = parseOneJson(createdOutput);
}, 60_000);

afterAll(async () => {
  // Each command started and stopped its own postmaster.
  if (pgdata) expect(await postmasters(pgdata)).toEqual([]);
  await cleanup();
});

interface KeyView {
  id: string;
  kind: string;
  prefix: string;
  revokedAt: string | null;
}

function listKeys(workspaceId: string): Promise<KeyView[]> {
  return runOk(['keys', 'list', '--workspace', workspaceId, '--json'], env).then((out) => JSON.parse(out) as KeyView[]);
}

function str(v: unknown): string {
  if (typeof v !== 'string') throw new Error(`expected a string, got ${JSON.stringify(v)}`);
  return v;
}

async function expectFailure(args: string[], message: RegExp): Promise<void> {
  const r = await runTandem(args, env);
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
  expect(r.stdout).toBe('');
}

describe('tandem workspace', () => {
  it('create --json prints exactly one JSON object with the ids and keys', async () => {
    expect(createdOutput.endsWith('}\n')).toBe(true);
    expect(Object.keys(ws).sort()).toEqual(['appApiKey', 'name', 'siteId', 'trackApiKey', 'workspaceId', 'writeKey']);
    expect(ws.name).toBe('Acme');
    expect(str(ws.workspaceId)).toMatch(/^ws_/);
    expect(str(ws.siteId)).toMatch(/^site_/);
    expect(str(ws.writeKey)).toMatch(/^tdm_wk_.{20,}/);
    expect(str(ws.trackApiKey)).toMatch(/^tdm_tk_.{20,}/);
    expect(str(ws.appApiKey)).toMatch(/^tdm_app_.{20,}/);

    const listed = JSON.parse(await runOk(['workspace', 'list', '--json'], env)) as { id: string; name: string }[];
    expect(listed).toContainEqual(expect.objectContaining({ id: ws.workspaceId, name: 'Acme' }));
  }, 60_000);
});

describe('tandem keys', () => {
  it('lists prefixes only, creates, rotates and revokes keys', async () => {
    const workspaceId = str(ws.workspaceId);

    const initial = await listKeys(workspaceId);
    expect(initial.map((k) => k.kind).sort()).toEqual(['app', 'track', 'write']);
    const listedText = JSON.stringify(initial);
    for (const secret of [ws.writeKey, ws.trackApiKey, ws.appApiKey]) expect(listedText).not.toContain(str(secret));
    expect(initial.find((k) => k.kind === 'write')?.prefix).toMatch(/^tdm_wk_/);

    const created = JSON.parse(await runOk(['keys', 'create', '--workspace', workspaceId, '--kind', 'app', '--name', 'ci', '--json'], env)) as
      { key: KeyView; secret: string };
    expect(created.secret).toMatch(/^tdm_app_/);
    expect(created.key.kind).toBe('app');

    const write = initial.find((k) => k.kind === 'write');
    if (!write) throw new Error('no write key');
    const rotated = JSON.parse(await runOk(['keys', 'rotate', write.id, '--workspace', workspaceId, '--json'], env)) as
      { key: KeyView; secret: string };
    expect(rotated.secret).toMatch(/^tdm_wk_/);
    expect(rotated.secret).not.toBe(ws.writeKey);
    expect(rotated.key.id).not.toBe(write.id);

    expect(await runOk(['keys', 'revoke', created.key.id, '--workspace', workspaceId], env)).toContain(created.key.id);

    const after = await listKeys(workspaceId);
    const byId = new Map(after.map((k) => [k.id, k]));
    expect(byId.get(write.id)?.revokedAt).not.toBeNull();
    expect(byId.get(created.key.id)?.revokedAt).not.toBeNull();
    expect(byId.get(rotated.key.id)?.revokedAt).toBeNull();
    expect(after.filter((k) => k.revokedAt === null).map((k) => k.kind).sort()).toEqual(['app', 'track', 'write']);
  }, 90_000);

  it('domain add --json prints the DKIM, SPF and DMARC records; adding again prints the same', async () => {
    const workspaceId = str(ws.workspaceId);
    const first = parseOneJson(await runOk(['domain', 'add', 'Mail.Acme.example', '--workspace', workspaceId, '--json'], env)) as {
      domain: string; dkim: { selector: string; name: string; value: string }; spf: { value: string }; dmarc: { name: string };
    };
    expect(first.domain).toBe('mail.acme.example');
    expect(first.dkim.name).toBe(`${first.dkim.selector}._domainkey.mail.acme.example`);
    expect(first.dkim.value).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);
    expect(first.spf.value).toMatch(/^v=spf1 /);
    expect(first.dmarc.name).toBe('_dmarc.mail.acme.example');
    const again = parseOneJson(await runOk(['domain', 'add', 'mail.acme.example', '--workspace', workspaceId, '--json'], env));
    expect(again).toEqual(first);
  }, 90_000);
});

describe('bad input', () => {
  it('exits non-zero with a one-line message on stderr and no stack trace', async () => {
    const workspaceId = str(ws.workspaceId);
    await Promise.all([
      expectFailure(['keys', 'list', '--workspace', 'ws_does_not_exist'], /^tandem: Workspace not found\. \[workspace\.not_found\]$/m),
      expectFailure(['keys', 'create', '--workspace', workspaceId, '--kind', 'admin'], /--kind must be write, track or app \(got "admin"\)/),
      expectFailure(['keys', 'revoke', 'key_does_not_exist', '--workspace', workspaceId], /Key not found\. \[key\.not_found\]/),
      expectFailure(['keys', 'list'], /required option '--workspace <id>' not specified/),
      expectFailure(['workspace', 'create'], /missing required argument 'name'/),
    ]);
  }, 90_000);
});
