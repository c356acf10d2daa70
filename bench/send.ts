// npm run bench:send [-- --smoke] [--messages N] [--concurrency N] [--rate N] [--seconds N]
//
// 20,000 emails rendered from the starter kit's `welcome` template (published; MJML layout and five
// components, Liquid), delivered by Tandem's real pipeline to a local smtp-server sink over pooled
// connections (TANDEM_SMTP_URL), against the machine's PostgreSQL (DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/postgres; a database made and dropped for the run):
//   1. enqueue: the 20,000 sends are accepted by POST /v1/send/email (`tandem api` process) while no
//      worker runs; the accept rate is printed for reference;
//   2. deliver: a `tandem worker` process starts; from its start until every message is `sent`
//      (claim → render → tracking → SMTP → status and event rows), messages/s;
//   3. raw baseline, same run, same sink: nodemailer's pooled transport (as many connections as
//      Tandem's SMTP pool) in its own process, sending the very messages Tandem rendered (read back
//      from the messages table) — no database, no rendering;
//   4. latency: with the worker running, sends at 100 messages/s through POST /v1/send/email; from
//      the moment the request is written to the sink's receipt of that message: p50/p99.
// Targets: >= 1,000 messages/s, >= 0.5 of raw, p99 <= 250 ms. BENCH_PROFILE=DIR: CPU profile of the worker.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { startCountingSink } from '../test/helpers/counting-sink.ts';
import { flag, opt } from './args.ts';
import { request } from './http.ts';

const args = process.argv.slice(2);
const smoke = flag('smoke');
const MESSAGES = opt('messages', smoke ? 500 : 20_000);
const WORKER_CONCURRENCY = opt('concurrency', 32);
const RATE = opt('rate', 100);
const LATENCY_SECONDS = opt('seconds', smoke ? 2 : 20);
const POOL = 5; // Tandem's pooled connections for TANDEM_SMTP_URL (src/modules/delivery/service.ts)
const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface RawMessage { to: string; from: string; subject: string; html: string; text: string; id: string }

// --raw-child: the baseline sender, in its own process like Tandem's worker. Reads messages as JSON
// lines on stdin, sends them all, prints the seconds taken.
async function rawChild(sinkUrl: string): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const messages = input.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RawMessage);
  const u = new URL(sinkUrl);
  const transport = nodemailer.createTransport({ host: u.hostname, port: Number(u.port), secure: false, ignoreTLS: true, pool: true, maxConnections: POOL, maxMessages: Infinity });
  const t0 = performance.now();
  await Promise.all(messages.map((m) => transport.sendMail({
    from: m.from, to: m.to, subject: m.subject, html: m.html, text: m.text,
    messageId: `<raw.${m.id}@localhost>`, headers: { 'X-Tandem-Message-Id': `raw_${m.id}` },
  })));
  process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - t0) / 1000 })}\n`);
  transport.close();
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function dbUrl(name: string): string {
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function runCli(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['bin/tandem.js', ...argv], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`tandem ${argv.join(' ')} exited ${code}`))));
  });
}

async function waitReady(url: string, server: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (server.exitCode !== null) throw new Error('Tandem exited during start');
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('Tandem did not become ready');
}


async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function until(what: string, ms: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sendBody = (i: number) => ({
  transactional_message_id: 'welcome', to: `user${i}@example.com`,
  message_data: { first_name: `User ${i}`, order: i }, identifiers: undefined,
});

async function main(): Promise<void> {
  const sink = await startCountingSink();
  const dbName = `tandem_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = dbUrl(dbName);
  const port = await freePort();
  const env = {
    ...process.env, DATABASE_URL: url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn',
    TANDEM_SMTP_URL: sink.url, TANDEM_WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
  };
  const children: ChildProcess[] = [];
  const db = new pg.Pool({ connectionString: url, max: 2 });
  try {
    console.log(`bench:send  messages=${MESSAGES} worker concurrency=${WORKER_CONCURRENCY} smtp pool=${POOL} latency: ${RATE}/s for ${LATENCY_SECONDS} s db=${dbName}`);
    const ws = JSON.parse(await runCli(env, 'workspace', 'create', 'bench', '--json')) as { workspaceId: string; appApiKey: string };
    const auth = `Bearer ${ws.appApiKey}`;
    const api = spawn(process.execPath, ['bin/tandem.js', 'api'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(api);
    await waitReady(`http://127.0.0.1:${port}`, api);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

    // The starter kit's welcome template, published as it is.
    const list = await request(agent, port, 'GET', '/api/content/templates', auth);
    const welcome = (list.json as { resources: Array<{ id: string; name: string }> }).resources.find((r) => r.name === 'welcome');
    if (!welcome) throw new Error('no welcome template in the starter kit');
    const published = await request(agent, port, 'POST', `/api/content/templates/${welcome.id}/publish`, auth, { force: true });
    if (published.status !== 200) throw new Error(`publish answered ${published.status}: ${JSON.stringify(published.json)}`);

    // 1. Enqueue through the API, no worker running.
    let rejected = 0;
    const t0 = performance.now();
    await pool(Array.from({ length: MESSAGES }, (_, i) => i), 16, async (i) => {
      const r = await request(agent, port, 'POST', '/v1/send/email', auth, sendBody(i));
      if (r.status !== 200) rejected++;
    });
    const acceptRate = MESSAGES / ((performance.now() - t0) / 1000);
    if (rejected) throw new Error(`${rejected} sends were not accepted`);

    // 2. A worker process delivers them; timed from its first heartbeat (it is then running jobs).
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    const worker = spawn(process.execPath, [...profile, 'bin/tandem.js', 'worker'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(worker);
    await until('the worker to start', 60_000, async () => (await db.query('SELECT 1 FROM worker_heartbeats')).rowCount! > 0);
    const d0 = performance.now();
    await until('every message sent', 600_000, async () =>
      Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM messages WHERE status = 'sent'`)).rows[0]?.n) >= MESSAGES);
    const deliverSeconds = (performance.now() - d0) / 1000;
    const tandemRate = MESSAGES / deliverSeconds;
    const statuses = (await db.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM messages GROUP BY status')).rows;
    const copies = sink.total;
    const distinct = sink.byMessage.size;

    // 3. The raw baseline: the same rendered messages, nodemailer's pooled transport, in its own process.
    const rows = (await db.query<{ id: string; to_address: string; from_address: string; subject: string; html: string; text: string }>(
      `SELECT id, to_address, from_address, subject, html, text FROM messages WHERE status = 'sent' ORDER BY created_at`)).rows;
    const avgBytes = rows.reduce((n, r) => n + r.html.length + r.text.length, 0) / rows.length;
    const rawSeconds = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/send.ts', '--raw-child', sink.url], { stdio: ['pipe', 'pipe', 'inherit'] });
      children.push(child);
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.on('exit', (code) => (code === 0 ? resolve((JSON.parse(out) as { seconds: number }).seconds) : reject(new Error(`raw sender exited ${code}`))));
      child.stdin.end(rows.map((r) => JSON.stringify({ id: r.id, to: r.to_address, from: r.from_address, subject: r.subject, html: r.html, text: r.text })).join('\n'));
    });
    const rawRate = rows.length / rawSeconds;
    const rawArrived = [...sink.byMessage.keys()].filter((k) => k.startsWith('raw_')).length;

    // 4. Latency at RATE messages/s through the API with the worker running.
    const n = RATE * LATENCY_SECONDS;
    const started = new Map<string, number>();
    let lateRejected = 0;
    const l0 = Date.now();
    await Promise.all(Array.from({ length: n }, async (_, i) => {
      const at = l0 + (i * 1000) / RATE;
      const wait = at - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const s = Date.now();
      const r = await request(agent, port, 'POST', '/v1/send/email', auth, sendBody(MESSAGES + i));
      const id = (r.json as { delivery_id?: string } | null)?.delivery_id;
      if (r.status !== 200 || !id) lateRejected++;
      else started.set(id, s);
    }));
    await until('the latency run to arrive', 60_000, () => [...started.keys()].every((id) => sink.firstAt.has(id)));
    const latencies = [...started].map(([id, s]) => sink.firstAt.get(id)! - s).sort((a, b) => a - b);
    agent.destroy();

    const f = (x: number) => Math.round(x).toLocaleString('en-US');
    const ratio = tandemRate / rawRate;
    const p99 = pct(latencies, 99);
    console.log(`email size         ~${f(avgBytes)} bytes (HTML + text, rendered from the welcome template)`);
    console.log(`enqueue (API)      ${f(acceptRate)} sends/s accepted by POST /v1/send/email (16 in flight; for reference)`);
    console.log(`tandem delivery    ${f(tandemRate)} messages/s  (${deliverSeconds.toFixed(1)} s; statuses ${statuses.map((s) => `${s.status} ${s.n}`).join(', ')}; sink ${distinct} distinct, ${copies} copies)`);
    console.log(`raw nodemailer     ${f(rawRate)} messages/s  (pooled, ${POOL} connections, pre-rendered, ${rawArrived} arrived)`);
    console.log(`ratio              ${ratio.toFixed(2)} of raw`);
    console.log(`latency @${RATE}/s     p50 ${pct(latencies, 50)} ms, p99 ${p99} ms, max ${latencies.at(-1) ?? 0} ms  (request written → sink receipt, ${latencies.length} messages, ${lateRejected} refused)`);
    console.log(`targets            >= 1,000 messages/s: ${tandemRate >= 1000 ? 'met' : 'NOT met'}; >= 0.5 of raw: ${ratio >= 0.5 ? 'met' : 'NOT met'}; p99 <= 250 ms: ${p99 <= 250 ? 'met' : 'NOT met'}`);
    if (distinct !== MESSAGES || copies !== MESSAGES || rawArrived !== rows.length || lateRejected > 0) {
      console.error(`FAIL: expected ${MESSAGES} messages delivered once each (got ${distinct} distinct, ${copies} copies), ${rows.length} raw, no refusals`);
      process.exitCode = 1;
    }
  } finally {
    await db.end();
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGINT');
        await new Promise((r) => c.once('exit', r));
      }
    }
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    await sink.close();
  }
}

if (flag('raw-child')) {
  rawChild(args[args.indexOf('--raw-child') + 1] ?? '').catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
