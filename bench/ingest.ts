// npm run bench:ingest [-- --smoke] [--events N] [--people N] [--concurrency N] [--batch N]
//
// 200,000 events of about 1 KB (50,000 people, 10% repeated message ids) through Tandem's /v1/batch
// (100 events a batch, 8 in flight) into the machine's PostgreSQL (DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/postgres), with Tandem's API running as its own process.
// In the same run, the raw baseline: the same rows written straight into a table of the events
// table's shape with multi-row INSERT and with COPY. Prints events/s, p50/p99 batch latency, ratios.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { rng } from './rng.ts';
import { flag, opt } from './args.ts';

const smoke = flag('smoke');
const EVENTS = opt('events', smoke ? 4_000 : 200_000);
const PEOPLE = opt('people', smoke ? 1_000 : 50_000);
const BATCH = opt('batch', 100);
const CONCURRENCY = opt('concurrency', 8);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 0.1);
const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';


interface BenchEvent {
  type: 'track' | 'identify' | 'page';
  messageId: string;
  userId: string;
  event?: string;
  name?: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context: Record<string, unknown>;
  timestamp: string;
}

function generate(): BenchEvent[] {
  const r = rng(42);
  const names = ['Signed Up', 'Viewed Product', 'Added To Cart', 'Checked Out', 'Invited Teammate', 'Used Feature'];
  const filler = 'x'.repeat(640);
  const out: BenchEvent[] = [];
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  for (let i = 0; i < EVENTS; i++) {
    if (i > 0 && r() < REPEAT) {
      // A retry: the same event (same message id) sent again.
      out.push(out[Math.floor(r() * out.length)]!);
      continue;
    }
    const person = Math.floor(r() * PEOPLE);
    const kind = r();
    const base = {
      messageId: `bench-${i}`,
      userId: `user-${person}`,
      context: { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (bench) AppleWebKit/537.36 Chrome/120 Safari/537.36', locale: 'en-GB', library: { name: 'bench', version: '1.0.0' } },
      timestamp: new Date(t0 + i * 1000).toISOString(),
    };
    if (kind < 0.1) {
      out.push({ ...base, type: 'identify', traits: { email: `user-${person}@example.com`, plan: r() < 0.5 ? 'free' : 'pro', seats: Math.floor(r() * 50), company: `Company ${person % 997}`, notes: filler } });
    } else if (kind < 0.2) {
      out.push({ ...base, type: 'page', name: 'Pricing', properties: { path: '/pricing', url: 'https://example.com/pricing', referrer: 'https://search.example/', title: 'Pricing', notes: filler } });
    } else {
      out.push({ ...base, type: 'track', event: names[Math.floor(r() * names.length)]!, properties: { sku: `sku-${Math.floor(r() * 5000)}`, price: Math.round(r() * 10000) / 100, currency: 'EUR', quantity: 1 + Math.floor(r() * 3), notes: filler } });
    }
  }
  return out;
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

function post(agent: http.Agent, port: number, path: string, auth: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: '127.0.0.1', port, path, method: 'POST', headers: {
      'content-type': 'application/json', authorization: auth, 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

// The raw baseline writes the rows Tandem would store, shaped as the events table.
function rawRows(events: BenchEvent[]): unknown[][] {
  return events.map((e) => [
    'ws_bench', null, e.messageId, e.type, e.event ?? e.name ?? null, JSON.stringify(e.properties ?? e.traits ?? {}),
    JSON.stringify(e.context), e.userId, null, 'segment', e.timestamp, new Date().toISOString(),
  ]);
}

const RAW_COLUMNS = 'workspace_id, person_id, message_id, type, name, properties, context, user_id, anonymous_id, source, timestamp, received_at';

async function rawInsert(pgPool: pg.Pool, rows: unknown[][]): Promise<number> {
  const batches: unknown[][][] = [];
  for (let i = 0; i < rows.length; i += BATCH) batches.push(rows.slice(i, i + BATCH));
  const t0 = performance.now();
  await pool(batches, CONCURRENCY, async (b) => {
    const params: unknown[] = [];
    const values = b.map((r) => `(${r.map((v) => { params.push(v); return `$${params.length}`; }).join(',')})`).join(',');
    await pgPool.query(`INSERT INTO raw_events (${RAW_COLUMNS}) VALUES ${values}`, params);
  });
  return rows.length / ((performance.now() - t0) / 1000);
}

function copyLine(r: unknown[]): string {
  return `${r.map((v) => (v === null ? '\\N' : (typeof v === 'string' ? v : JSON.stringify(v)).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n'))).join('\t')}\n`;
}

async function rawCopy(pgPool: pg.Pool, rows: unknown[][]): Promise<number> {
  const t0 = performance.now();
  const client = await pgPool.connect();
  try {
    const stream = client.query(copyFrom(`COPY raw_events (${RAW_COLUMNS}) FROM STDIN`));
    await pipeline(Readable.from((function* () { for (const r of rows) yield copyLine(r); })()), stream);
  } finally {
    client.release();
  }
  return rows.length / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const dbName = `tandem_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = dbUrl(dbName);
  const port = await freePort();
  const env = { ...process.env, DATABASE_URL: url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  let server: ChildProcess | undefined;
  try {
    console.log(`bench:ingest  events=${EVENTS} people=${PEOPLE} batch=${BATCH} concurrency=${CONCURRENCY} db=${dbName}`);
    const events = generate();
    const unique = new Set(events.map((e) => e.messageId)).size;
    const ws = JSON.parse(await runCli(env, 'workspace', 'create', 'bench', '--json')) as { writeKey: string };
    // BENCH_PROFILE=DIR writes a V8 CPU profile of the Tandem process into DIR.
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    server = spawn(process.execPath, [...profile, 'bin/tandem.js', 'api'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const api = `http://127.0.0.1:${port}`;
    await waitReady(api, server);

    // Bodies are encoded before the clock starts: the load generator should cost as little as it can.
    const bodies: Buffer[] = [];
    for (let i = 0; i < events.length; i += BATCH) {
      bodies.push(Buffer.from(JSON.stringify({ batch: events.slice(i, i + BATCH), sentAt: new Date().toISOString() })));
    }
    const avgBytes = bodies.reduce((n, b) => n + b.length, 0) / events.length;
    const auth = `Basic ${Buffer.from(`${ws.writeKey}:`).toString('base64')}`;
    const latencies: number[] = [];
    let failures = 0;
    // A lean keep-alive client, so that the load generator takes as little of the 2 cores as it can.
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const t0 = performance.now();
    await pool(bodies, CONCURRENCY, async (body) => {
      const s = performance.now();
      const status = await post(agent, port, '/v1/batch', auth, body);
      if (status !== 200) failures++;
      latencies.push(performance.now() - s);
    });
    const seconds = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    const tandemRate = events.length / seconds;

    agent.destroy();
    const pgPool = new pg.Pool({ connectionString: url, max: CONCURRENCY });
    const stored = Number((await pgPool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]?.n);
    const people = Number((await pgPool.query<{ n: string }>('SELECT count(*) AS n FROM people')).rows[0]?.n);
    await pgPool.query(`CREATE TABLE raw_events (LIKE events INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)`);
    const rows = rawRows(events);
    const insertRate = await rawInsert(pgPool, rows);
    await pgPool.query('TRUNCATE raw_events');
    const copyRate = await rawCopy(pgPool, rows);
    await pgPool.end();

    const f = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log(`event size        ~${Math.round(avgBytes)} bytes (JSON)`);
    console.log(`tandem /v1/batch  ${f(tandemRate)} events/s  (${seconds.toFixed(1)} s; batch p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms; non-200: ${failures})`);
    console.log(`stored            ${stored} events for ${unique} unique message ids (${events.length - unique} repeats dropped), ${people} people`);
    console.log(`raw INSERT        ${f(insertRate)} rows/s  (multi-row, ${BATCH} a statement, ${CONCURRENCY} in flight)`);
    console.log(`raw COPY          ${f(copyRate)} rows/s`);
    console.log(`ratio             tandem/INSERT ${(tandemRate / insertRate).toFixed(2)}  tandem/COPY ${(tandemRate / copyRate).toFixed(2)}  (target >= 0.25 of COPY and >= 15,000 events/s)`);
    if (stored !== unique || failures > 0) {
      console.error(`FAIL: expected ${unique} stored events and no failures`);
      process.exitCode = 1;
    }
  } finally {
    if (server && server.exitCode === null) {
      server.kill('SIGINT');
      await new Promise((r) => server!.once('exit', r));
    }
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
