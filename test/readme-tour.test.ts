// The README's five-minute tour, run for real from the README's own text: `npm start` (bin/tandem.js
// start) on a temp data dir with the embedded PostgreSQL, the workspace command, every curl call
// (translated to fetch: same method, path, headers, body and auth), and the SDK snippet run by node.
// When the README changes, this test runs the changed commands.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, freePort, postmasters, runTandem, spawnTandem, tempDataDir, waitReady, type DataDir, type Spawned } from './helpers/process.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Curl {
  method: string;
  /** Path and query, as in the README. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  background: boolean;
}

/** What each of the README's curl calls must answer, in the README's order. */
const CURL_ANSWERS: Array<{ call: string; status: number; body?: (b: unknown) => void }> = [
  { call: 'POST /v1/page', status: 200, body: (b) => expect(b).toEqual({ success: true }) },
  { call: 'POST /v1/identify', status: 200, body: (b) => expect(b).toEqual({ success: true }) },
  { call: 'POST /v1/track', status: 200, body: (b) => expect(b).toEqual({ success: true }) },
  { call: 'PUT /api/v1/customers/u-1', status: 200, body: (b) => expect(b).toEqual({}) },
  {
    call: 'GET /api/people?q=ann', status: 200,
    body: (b) => expect(b).toMatchObject({
      people: [{ userId: 'u-1', email: 'ann@example.com', identified: true, attributes: { plan: 'pro', company: 'Acme' } }],
      nextCursor: null,
    }),
  },
  {
    call: 'GET /v1/customers/u-1/attributes', status: 200,
    body: (b) => expect(b).toMatchObject({ customer: { id: 'u-1', attributes: { email: 'ann@example.com', plan: 'pro', company: 'Acme' } } }),
  },
  {
    call: 'GET /api/event-types', status: 200,
    body: (b) => {
      const names = (b as { eventTypes: Array<{ type: string; name: string }> }).eventTypes.map((e) => `${e.type} ${e.name}`);
      expect(names).toEqual(expect.arrayContaining(['page Pricing', 'identify identify', 'track Invited Teammate']));
    },
  },
  { call: 'GET /api/events/stream', status: 200 }, // read below: it stays open for the SDK's events
  {
    call: 'POST /api/content/templates/welcome/preview?by=name', status: 200,
    body: (b) => {
      const r = b as { email: { subject: string; html: string; text: string }; person: { id: string } | null };
      expect(r.email.subject).toBe('Welcome, friend!');
      expect(r.email.html).toContain('Welcome aboard');
      expect(r.email.text).toContain('Get started [https://example.com/start]');
      expect(r.person).not.toBeNull();
    },
  },
  {
    call: 'GET /api/content/templates/welcome/lint?by=name', status: 200,
    body: (b) => expect(b).toMatchObject({ errors: 0 }),
  },
  {
    call: 'POST /api/content/templates/welcome/test-send?by=name', status: 202,
    body: (b) => expect(b).toMatchObject({ deliveredTo: 'dev-inbox', rendered: { email: { subject: 'Welcome, friend!' } } }),
  },
  {
    call: 'POST /v1/send/email', status: 200,
    body: (b) => expect(b).toEqual({ delivery_id: expect.stringMatching(/^dlv_/) as unknown, queued_at: expect.any(Number) as unknown }),
  },
  {
    // The transactional send is delivered by the worker a moment later; the test send is there at once.
    call: 'GET /api/dev-inbox', status: 200,
    body: (b) => expect((b as { messages: unknown[] }).messages).toContainEqual(
      expect.objectContaining({ to: 'ann@example.com', subject: '[Test] Welcome, friend!', source: 'test' })),
  },
  {
    call: 'POST /api/segments/preview', status: 200,
    body: (b) => expect(b).toMatchObject({ count: 1, sample: [{ externalId: 'u-1', email: 'ann@example.com' }] }),
  },
  {
    call: 'POST /api/segments', status: 201,
    body: (b) => expect(b).toMatchObject({ key: 'pro-inviters', kind: 'dynamic' }),
  },
  {
    call: 'GET /api/segments/pro-inviters/explain?person=u-1&by=userId', status: 200,
    body: (b) => expect(b).toMatchObject({ member: true, tree: { type: 'and', result: true, children: [{ result: true }, { result: true }] } }),
  },
];

// --- Reading the README -----------------------------------------------------------------------

async function tourSection(): Promise<string> {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('## A five-minute tour');
  if (start < 0) throw new Error('README.md has no "A five-minute tour" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

function codeBlock(section: string, lang: string): string {
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
  if (!m?.[1]) throw new Error(`the tour has no \`\`\`${lang} block`);
  return m[1];
}

/** Shell lines with `\` continuations joined. */
function shellLines(block: string): string[] {
  return block.replace(/\\\n\s*/g, '').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** Splits a shell line into words the way sh does for these commands: quotes, $VAR, a trailing comment. */
function shellWords(line: string, vars: Record<string, string>): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const expand = (s: string) => s.replace(/\$([A-Z_]+)/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`$${name} is not set by the tour`);
    return value;
  });
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(#.*$)|(\s+)|([^\s'"]+)/g)) {
    if (m[3] !== undefined && word === undefined) break; // a comment
    if (m[4] !== undefined) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    word = (word ?? '') + (m[1] ?? expand(m[2] ?? m[5] ?? ''));
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The curl options the tour uses; anything else fails the test rather than being ignored. */
function parseCurl(words: string[]): Curl {
  const c: Curl = { method: '', path: '', headers: {}, background: false };
  for (let i = 1; i < words.length; i++) {
    const w = words[i] ?? '';
    const next = () => words[++i] ?? '';
    if (w === '&') c.background = true;
    else if (/^-[sN]+$/.test(w)) continue; // silent, no buffering
    else if (w === '-u') c.headers.authorization = `Basic ${Buffer.from(next()).toString('base64')}`;
    else if (w === '-X') c.method = next();
    else if (w === '-H') {
      const [name = '', ...value] = next().split(':');
      c.headers[name.trim().toLowerCase()] = value.join(':').trim();
    } else if (w === '-d') c.body = next();
    else if (w.startsWith('-')) throw new Error(`curl option ${w} is not understood by this test`);
    else {
      const m = /^localhost:3000(\/.*)$/.exec(w);
      if (!m?.[1]) throw new Error(`curl URL ${w} is not localhost:3000/…`);
      c.path = m[1];
    }
  }
  // curl: -d means POST and a form content type unless told otherwise.
  c.method ||= c.body === undefined ? 'GET' : 'POST';
  if (c.body !== undefined) c.headers['content-type'] ??= 'application/x-www-form-urlencoded';
  return c;
}

// --- Running it --------------------------------------------------------------------------------

/** Runs the README's SDK snippet with node, as `node tour.mjs` in the project directory would. */
async function runSnippet(code: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--input-type=module'], {
    cwd: root, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const exit = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  child.stdin.end(code);
  const exitCode = await exit;
  clearTimeout(timer);
  return { code: exitCode, output };
}

/** Runs a line with sh in the project directory, as a user's terminal would; its stdout. */
async function runShell(line: string, env: Record<string, string>): Promise<string> {
  const child = spawn('sh', ['-c', line], { cwd: root, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0 || err !== '') throw new Error(`sh -c ${line}: exit ${code}\n${err}\n${out}`);
  return out;
}

/** Collects an SSE response's text in the background. */
function collect(res: Response): { text(): string; waitFor(pattern: RegExp, ms?: number): Promise<void>; close(): Promise<void> } {
  let text = '';
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const done = (async () => {
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (r.done) return;
      text += r.value;
    }
  })();
  return {
    text: () => text,
    async waitFor(pattern, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!pattern.test(text)) {
        if (Date.now() > deadline) throw new Error(`the stream did not show ${String(pattern)}:\n${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      await reader.cancel().catch(() => undefined);
      await done;
    },
  };
}

describe('README: a five-minute tour', () => {
  let dir: DataDir;
  let server: Spawned | undefined;
  let port: number;
  const base = () => `http://localhost:${port}`;

  beforeAll(async () => {
    dir = await tempDataDir();
    port = await freePort();
  });

  afterAll(async () => {
    await server?.stop('SIGKILL', 5_000);
    await dir.remove();
  });

  it('works as written', async () => {
    const section = await tourSection();
    const lines = shellLines(codeBlock(section, 'sh'));

    // Terminal 1: `npm start` is `node bin/tandem.js start` (embedded PostgreSQL in the data dir).
    expect(lines[0]).toMatch(/^npm ci && npm start\b/);
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe('node bin/tandem.js start');
    const env = { TANDEM_DATA_DIR: dir.dir, PORT: String(port) }; // spawnTandem drops DATABASE_URL
    server = spawnTandem(['start'], env);
    await waitReady(base(), server);

    // Terminal 2: the workspace command's line, as written, run by a real shell whose eval sets the keys.
    const evalLine = lines.find((l) => l.startsWith('eval ')) ?? '';
    expect(evalLine).toBe('eval "$(node bin/tandem.js workspace create Acme --env)"');
    const names = ['WK', 'SITE', 'TK', 'APP', 'WORKSPACE', 'TANDEM_APP_KEY'] as const;
    const shell = await runShell(`${evalLine} && printf '%s\\n' ${names.map((n) => `"$${n}"`).join(' ')}`, env);
    const values = shell.split('\n').slice(0, names.length);
    const vars: Record<string, string> = Object.fromEntries(names.map((n, i) => [n, values[i] ?? '']));
    expect(vars).toMatchObject({
      WK: expect.stringMatching(/^tdm_wk_[\w-]+$/) as unknown, SITE: expect.stringMatching(/^site_\w+$/) as unknown,
      TK: expect.stringMatching(/^tdm_tk_[\w-]+$/) as unknown, APP: expect.stringMatching(/^tdm_app_[\w-]+$/) as unknown,
      WORKSPACE: expect.stringMatching(/^ws_\w+$/) as unknown, TANDEM_APP_KEY: vars.APP,
    });

    // Every curl call, in order, over HTTP to the running server.
    const curls = lines.filter((l) => l.startsWith('curl ')).map((l) => parseCurl(shellWords(l, vars)));
    expect(curls.map((c) => `${c.method} ${c.path}`)).toEqual(CURL_ANSWERS.map((a) => a.call));
    let stream: ReturnType<typeof collect> | undefined;
    for (const [i, c] of curls.entries()) {
      const answer = CURL_ANSWERS[i]!;
      const res = await fetch(`${base()}${c.path}`, { method: c.method, headers: c.headers, ...(c.body === undefined ? {} : { body: c.body }) });
      if (res.status !== answer.status) throw new Error(`${answer.call}: ${res.status} ${await res.text()}`);
      if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
        expect(c.background, 'the stream runs in the background so that the tour can go on').toBe(true);
        stream = collect(res);
        await stream.waitFor(/^: ready$/m);
      } else {
        answer.body?.(await res.json());
      }
    }
    if (!stream) throw new Error('the tour opens no live stream');

    // The SDK snippet, run by node with the exported keys; only the port differs from the README.
    const snippet = codeBlock(section, 'js');
    expect(snippet).toContain("host: 'http://localhost:3000'");
    expect(snippet).toContain("url: 'http://localhost:3000/api/v1'");
    expect(snippet).toContain('port: 3000');
    const ran = await runSnippet(snippet.replaceAll('localhost:3000', `localhost:${port}`).replaceAll('port: 3000', `port: ${port}`), vars);
    expect(ran, ran.output).toEqual({ code: 0, output: '' });
    await stream.waitFor(/"name":"Created Project"[\s\S]*"name":"Upgraded"|"name":"Upgraded"[\s\S]*"name":"Created Project"/);
    await stream.close();

    // One person with everything merged: the anonymous visit, both APIs and both SDKs.
    const app = { authorization: `Bearer ${vars.APP}` };
    const person = await (await fetch(`${base()}/api/people/u-1?by=userId`, { headers: app })).json() as Record<string, unknown>;
    expect(person).toMatchObject({
      userId: 'u-1', email: 'ann@example.com', identified: true,
      attributes: { plan: 'pro', company: 'Acme', role: 'admin' },
      identifiers: { userIds: ['u-1'], anonymousIds: ['a-1'] },
    });
    const { events } = await (await fetch(`${base()}/api/people/u-1/events?by=userId&limit=100`, { headers: app }))
      .json() as { events: Array<{ type: string; name: string | null; source: string }> };
    expect(events.map((e) => `${e.source} ${e.type} ${e.name ?? ''}`.trim()).sort()).toEqual([
      'customerio identify', 'customerio identify', 'customerio track Upgraded',
      'segment identify', 'segment page Pricing', 'segment track Created Project', 'segment track Invited Teammate',
    ]);

    // The transactional send, delivered by the worker into the dev inbox, rendered for Ann.
    for (let i = 0; ; i++) {
      const inbox = await (await fetch(`${base()}/api/dev-inbox`, { headers: app })).json() as { messages: Array<{ id: string; source: string; subject: string }> };
      const sent = inbox.messages.find((m) => m.source === 'transactional');
      if (sent) {
        const full = await (await fetch(`${base()}/api/dev-inbox/${sent.id}`, { headers: app })).json() as { subject: string; html: string; to: string };
        expect(full).toMatchObject({ subject: 'Hi', to: 'ann@example.com' });
        expect(full.html).toContain('Hi pro customer');
        break;
      }
      if (i > 150) throw new Error('the transactional send never reached the dev inbox');
      await new Promise((r) => setTimeout(r, 100));
    }

    // The CSV import, as written: printf writes the file, the CLI streams it to the server (TANDEM_URL
    // points it at this test's port; the README relies on the default, localhost:3000).
    const printf = shellWords(lines.find((l) => l.startsWith('printf ')) ?? '', vars);
    expect(printf.slice(2)).toEqual(['>', 'people.csv']);
    await writeFile(path.join(dir.dir, 'people.csv'), (printf[1] ?? '').replaceAll('\\n', '\n'));
    // The key comes from the environment `eval` set (TANDEM_APP_KEY).
    const cli = shellWords(lines.find((l) => l.includes('bin/tandem.js import ')) ?? '', vars);
    expect(cli.slice(0, 2)).toEqual(['node', 'bin/tandem.js']);
    // (runTandem, not runOk: the progress lines go to stderr.)
    const imported = await runTandem(cli.slice(2).map((w) => (w === 'people.csv' ? path.join(dir.dir, w) : w)), { TANDEM_APP_KEY: vars.APP, TANDEM_URL: base() });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^import imp_\w+ done: 1 rows, 1 created, 0 updated, 0 skipped, 0 failed /);
    const bo = await (await fetch(`${base()}/api/people/u-2?by=userId`, { headers: app })).json() as Record<string, unknown>;
    expect(bo).toMatchObject({ userId: 'u-2', email: 'bo@example.com', attributes: { plan: 'team', age: 31 } });

    // Ctrl-C in terminal 1: a clean exit that stops the embedded PostgreSQL.
    const exit = await server.stop('SIGINT');
    server = undefined;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await postmasters(dir.pgdata)).toEqual([]);
  }, 90_000);
});
