// npm run bench:segments [-- --smoke] [--people N] [--events N] [--seed N] [--keep] [--plans]
//                        [--rate N] [--seconds N] [--exit-spread S] [--tick S] [--csv-rows N] [--steps 2,3,5]
//
// Segments at a million people, against the machine's PostgreSQL (DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/postgres; a database made and dropped for the run, or kept
// with --keep). docs/scaling.md ("Segments") describes the data and the method.
//   1. generate: 1,000,000 people, 10,000,000 events, 300,000 messages, seeded (bench/segments/generate.ts);
//   2. evaluate: five typical segments, Tandem's compiled count (median of 3, warm) beside a
//      hand-written SQL query for each (the raw baseline): counts must be equal; ratio (target <= 1.5);
//      then the from-scratch membership build of each; --plans prints the compiled queries' plans;
//   3. real-time: events at 5,000/s through POST /v1/batch (`tandem api`) into a segment they change
//      (`tandem worker` keeps memberships): latency from the 2xx to the 'entered' change, p50/p99 (target <= 1 s);
//      the same for new people entering a segment they match by not having purchased (--new-people N);
//   4. time-based exits: members that expire at known instants; lateness of the 'exited' change, p99 (target <= 60 s);
//   5. CSV import: rows/s of Tandem's people import beside COPY of the same rows (target >= 20,000 rows/s).
// --keep: the generated database is kept (named after its parameters) and reused by the next --keep
// run, which then skips step 1; drop it with the command printed at the end. --steps runs only some
// of steps 2, 3 (with 4) and 5.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { evaluate } from './segments/evaluate.ts';
import { generate } from './segments/generate.ts';
import { importBench } from './segments/import.ts';
import { realtime } from './segments/realtime.ts';
import { baseUrl, benchPool, dbUrl, fmt, runCli } from './segments/util.ts';
import { flag, opt } from './args.ts';

const args = process.argv.slice(2);
const smoke = flag('smoke');
const PEOPLE = opt('people', smoke ? 20_000 : 1_000_000);
const EVENTS = opt('events', PEOPLE * 10);
const MESSAGES = opt('messages', Math.round(PEOPLE * 0.3));
const SEED = opt('seed', 42);
const KEEP = flag('keep');

export interface BenchContext {
  url: string;
  workspaceId: string;
  writeKey: string;
  appApiKey: string;
  anchor: Date;
  people: number;
  smoke: boolean;
  opt: (name: string, def: number) => number;
  flag: (name: string) => boolean;
}

interface Meta { workspaceId: string; writeKey: string; appApiKey: string; anchor: string; complete: boolean }

async function readMeta(url: string): Promise<Meta | undefined> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ v: Meta }>(`SELECT v FROM bench_meta WHERE k = 'segments'`).catch(() => ({ rows: [] as Array<{ v: Meta }> }));
    return r.rows[0]?.v;
  } finally {
    await c.end();
  }
}

async function writeMeta(pool: pg.Pool, meta: Meta): Promise<void> {
  await pool.query('CREATE TABLE IF NOT EXISTS bench_meta (k text PRIMARY KEY, v jsonb NOT NULL)');
  await pool.query(`INSERT INTO bench_meta (k, v) VALUES ('segments', $1) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v`, [JSON.stringify(meta)]);
}

/** A fresh database with a workspace made by the CLI (migrations, keys, starter kit), then the data. */
async function prepare(admin: pg.Client, dbName: string): Promise<Meta> {
  const url = dbUrl(dbName);
  if (KEEP) {
    const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName])).rowCount! > 0;
    const meta = exists ? await readMeta(url) : undefined;
    if (meta?.complete) {
      console.log(`1. generate      reusing kept database ${dbName} (generated ${meta.anchor})`);
      return meta;
    }
    if (exists) await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
  }
  await admin.query(`CREATE DATABASE ${dbName}`);
  const env = { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' };
  const ws = JSON.parse(await runCli(env, 'workspace', 'create', 'bench', '--json')) as { workspaceId: string; writeKey: string; appApiKey: string };
  // Whole seconds: the anchor is printed and stored, and the data is the same for the same anchor.
  const anchor = new Date(Math.floor(Date.now() / 1000) * 1000);
  const meta: Meta = { workspaceId: ws.workspaceId, writeKey: ws.writeKey, appApiKey: ws.appApiKey, anchor: anchor.toISOString(), complete: false };
  const pool = benchPool({ connectionString: url, max: 2 });
  try {
    await writeMeta(pool, meta);
    const t0 = performance.now();
    const timings = await generate(pool, { workspaceId: ws.workspaceId, people: PEOPLE, events: EVENTS, messages: MESSAGES, seed: SEED, anchor }, (l) => console.log(l));
    const total = (performance.now() - t0) / 1000;
    const size = (await pool.query<{ s: string }>('SELECT pg_size_pretty(pg_database_size(current_database())) AS s')).rows[0]?.s;
    const t = (k: string) => `${k} ${(timings[k] ?? 0).toFixed(1)}`;
    console.log(`1. generate      ${total.toFixed(1)} s  (load ${(timings.load ?? 0).toFixed(1)} s: ${['events', 'people', 'person_identifiers', 'suppressions', 'messages', 'message_events'].map(t).join(', ')}; indexes ${(timings.indexes ?? 0).toFixed(1)} s; vacuum analyze ${(timings.vacuum ?? 0).toFixed(1)} s; database ${size})`);
    meta.complete = true;
    await writeMeta(pool, meta);
  } finally {
    await pool.end();
  }
  return meta;
}

async function main(): Promise<void> {
  const dbName = KEEP ? `tandem_bench_segments_${PEOPLE}_${EVENTS}_${SEED}` : `tandem_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  console.log(`bench:segments  people=${fmt(PEOPLE)} events=${fmt(EVENTS)} messages=${fmt(MESSAGES)} seed=${SEED} db=${dbName}${KEEP ? ' (kept)' : ''}`);
  let failed = false;
  try {
    const meta = await prepare(admin, dbName);
    const ctx: BenchContext = {
      url: dbUrl(dbName), workspaceId: meta.workspaceId, writeKey: meta.writeKey, appApiKey: meta.appApiKey,
      anchor: new Date(meta.anchor), people: PEOPLE, smoke, opt, flag,
    };
    // --steps 2,5: only those steps (when iterating on one; the data is always there).
    const i = args.indexOf('--steps');
    const steps = new Set((i >= 0 ? args[i + 1] ?? '' : '2,3,5').split(',').map((x) => (x === '4' ? '3' : x)));
    if (steps.has('2')) failed = !(await evaluate(ctx));
    if (steps.has('3')) failed = !(await realtime(ctx)) || failed;
    if (steps.has('5')) failed = !(await importBench(ctx)) || failed;
  } finally {
    if (KEEP) {
      console.log(`kept database ${dbName}: the next run with the same --people/--events/--seed and --keep reuses it; drop it with`);
      console.log(`  psql ${baseUrl} -c 'DROP DATABASE ${dbName} WITH (FORCE)'`);
    } else {
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    }
    await admin.end();
  }
  if (failed) {
    console.error('FAIL: see the lines marked FAIL above');
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
