// `tandem pull` and `tandem apply` as a user runs them: the real bin against a Tandem on a real port.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from './harness.ts';
import { readTree, seedEveryKind, snapshot, tempDir } from './helpers/ascode.ts';
import { parseOneJson, runOk, runTandem } from './helpers/process.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

let t: TestTandem;
let ws: CreatedWorkspace;
let tmp: { dir: string; remove(): Promise<void> };

beforeAll(async () => {
  t = await createTestTandem({ listen: true });
  ws = await t.workspace('Cli');
  await seedEveryKind(t.services.content, ws.workspaceId);
  tmp = await tempDir();
});

afterAll(async () => {
  await t.close();
  await tmp.remove();
});

describe('tandem pull / apply', () => {
  it('pulls with --url/--key, then apply --dry-run (from TANDEM_URL/TANDEM_APP_KEY) plans nothing and changes nothing', async () => {
    const dir = path.join(tmp.dir, 'repo');
    const out = await runOk(['pull', dir, '--url', t.baseUrl, '--key', ws.appApiKey], {});
    expect(out).toContain('written     templates/onboarding.yaml');
    expect(out).toMatch(/resources pulled into .*repo, \d+ files written\n$/);
    const tree = await readTree(dir);
    expect(tree['templates/otp-sms.yaml']).toBe('name: otp-sms\nstatus: published\nchannel: sms\nmarketing: false\nsms:\n  body: Your code is {{ event.code }}\n');

    const env = { TANDEM_URL: t.baseUrl, TANDEM_APP_KEY: ws.appApiKey };
    const before = await snapshot(t.services.content, ws.workspaceId);
    const json = parseOneJson(await runOk(['apply', dir, '--dry-run', '--json'], env));
    expect(json.dryRun).toBe(true);
    const plan = json.plan as Array<{ action: string; kind: string; name: string }>;
    expect(plan.length).toBe(before.length);
    expect(plan.every((e) => e.action === 'unchanged')).toBe(true);

    // A change shows in the human plan; --dry-run still changes nothing.
    const welcome = path.join(dir, 'templates', 'onboarding.yaml');
    await writeFile(welcome, (await readFile(welcome, 'utf8')).replace('Welcome aboard', 'Hello there'));
    const human = await runOk(['apply', dir, '--dry-run'], env);
    expect(human).toMatch(/^update +template +onboarding +\(published, server draft v1, published v1\)$/m);
    expect(human).toMatch(/^Plan: 0 to create, 1 to update, 0 to publish, 0 to delete, \d+ unchanged, 0 untracked\.$/m);
    expect(human.endsWith('Dry run: nothing was changed.\n')).toBe(true);
    expect(await snapshot(t.services.content, ws.workspaceId)).toEqual(before);

    // Pull again restores the file byte for byte.
    await runOk(['pull', dir], env);
    expect(await readTree(dir)).toEqual(tree);
  }, 60_000);

  it('exits non-zero, naming the file and field, on a bad file; and on a bad key', async () => {
    const dir = path.join(tmp.dir, 'bad');
    await runOk(['pull', dir, '--url', t.baseUrl, '--key', ws.appApiKey], {});
    await writeFile(path.join(dir, 'templates', 'broken.yaml'), 'name: broken\nstatus: draft\nchannel: email\nmarketing: false\nemail: {}\n');
    const before = await snapshot(t.services.content, ws.workspaceId);

    const [bad, wrongKey, noKey] = await Promise.all([
      runTandem(['apply', dir, '--url', t.baseUrl, '--key', ws.appApiKey], {}),
      runTandem(['pull', path.join(tmp.dir, 'never'), '--url', t.baseUrl, '--key', 'tdm_app_nope'], {}),
      runTandem(['apply', dir, '--url', t.baseUrl], {}),
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^tandem: templates\/broken\.yaml: email\.subject: .* \[ascode\.invalid_file\]$/m);
    expect(bad.stderr).not.toMatch(/^\s+at /m);
    expect(bad.stdout).toBe('');
    expect(await snapshot(t.services.content, ws.workspaceId)).toEqual(before);

    expect(wrongKey.code).not.toBe(0);
    expect(wrongKey.stderr).toMatch(/\[auth\.invalid\]$/m);
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toMatch(/no App API key: pass --key or set TANDEM_APP_KEY/);
  }, 60_000);
});
