// Step 5: CSV import of people. A seeded CSV (--csv-rows, default the people count: 1,000,000) of new
// people with typed attribute columns is imported by Tandem's import service (importPeopleCsv, the
// code behind PUT /api/imports/:id/csv and `tandem import people`) into the benchmark's workspace: a
// live workspace of a million people with segments, which marks the new people for re-evaluation.
// The imported people are deleted afterwards, so a kept database stays as generated.
// --import-workspace new: into a workspace of its own instead (made by the CLI, deleted after).
// Raw baseline, same run: COPY of the same file into a bare table (no index, no constraint).
// Prints rows/s and the ratio; target >= 20,000 rows/s.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { importPeopleCsv } from '../../src/modules/imports/index.ts';
import { rng } from '../rng.ts';
import type { BenchContext } from '../segments.ts';
import { openInProcess } from './evaluate.ts';
import { COUNTRIES, PLANS, SOURCES } from './generate.ts';
import { benchPool, fmt, runCli } from './util.ts';

const HEADER = 'id,email,name,plan,country,lifetime_value:number,signup_source,trial_end:date,created_at:date,newsletter:boolean';

function chooser(r: () => number, choices: ReadonlyArray<readonly [string, number]>): () => string {
  const total = choices.reduce((n, [, w]) => n + w, 0);
  return () => {
    let u = r() * total;
    for (const [v, w] of choices) if ((u -= w) < 0) return v;
    return choices.at(-1)![0];
  };
}

/** Writes the seeded CSV; answers its size in bytes. */
async function writeCsv(file: string, rows: number, seed: number, anchor: Date): Promise<number> {
  const r = rng(seed + 5);
  const plan = chooser(r, PLANS);
  const country = chooser(r, COUNTRIES);
  const source = chooser(r, SOURCES);
  const out = createWriteStream(file);
  const day = 86_400_000;
  let buf = `${HEADER}\n`;
  for (let i = 1; i <= rows; i++) {
    const p = plan();
    const trialEnd = p === 'trial' ? new Date(anchor.getTime() + Math.round((r() * 30 - 10) * day)).toISOString().slice(0, 10) : '';
    const created = new Date(anchor.getTime() - Math.round(r() * 720 * day)).toISOString();
    const ltv = (5000 * r() ** 3).toFixed(2);
    // Names with a comma, quoted as a spreadsheet writes them.
    buf += `imp-${i},imp-${i}@example.com,"Person ${i}, Example Ltd",${p},${country()},${ltv},${source()},${trialEnd},${created},${r() < 0.5}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  return (await stat(file)).size;
}

function args(ctx: BenchContext): string {
  const i = process.argv.indexOf('--import-workspace');
  return ctx.flag('import-workspace') && i >= 0 ? process.argv[i + 1] ?? 'bench' : 'bench';
}

export async function importBench(ctx: BenchContext): Promise<boolean> {
  const rows = ctx.opt('csv-rows', ctx.people);
  const timeout = ctx.opt('import-timeout', ctx.smoke ? 15 : 900);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-bench-'));
  const file = path.join(dir, 'people.csv');
  const pool = benchPool({ connectionString: ctx.url, max: 2 });
  const own = args(ctx) === 'new';
  let wsId = ctx.workspaceId;
  const cleanup = async () => {
    if (own) {
      if (wsId !== ctx.workspaceId) await pool.query('DELETE FROM workspaces WHERE id = $1', [wsId]);
      return;
    }
    await pool.query(`DELETE FROM people WHERE workspace_id = $1 AND external_id LIKE 'imp-%'`, [ctx.workspaceId]);
    await pool.query('DELETE FROM segment_dirty WHERE workspace_id = $1', [ctx.workspaceId]);
  };
  let ok = true;
  try {
    const bytes = await writeCsv(file, rows, ctx.opt('seed', 42), ctx.anchor);
    await cleanup();
    if (own) {
      const env = { ...process.env, DATABASE_URL: ctx.url, LOG_LEVEL: 'warn' };
      wsId = (JSON.parse(await runCli(env, 'workspace', 'create', 'bench-import', '--json')) as { workspaceId: string }).workspaceId;
    }

    const tandem = await openInProcess(ctx.url);
    let seconds: number;
    let view;
    let timedOut = false;
    try {
      // A deadline (--import-timeout seconds; smoke 15, else 900) ends the upload early, as a client
      // hanging up would, and cancels the statement in flight: the import then stops as failed with
      // the rows committed so far, and the rate is that of those rows.
      const input = createReadStream(file);
      let canceller: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        input.destroy(new Error('aborted'));
        // …and the statements in flight are cancelled, until it stops (chunks already parsed would
        // still be written): only this process uses the bench database at this step.
        const cancel = () => pool.query(`SELECT pg_cancel_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'`).catch(() => undefined);
        void cancel();
        canceller = setInterval(() => void cancel(), 500);
      }, timeout * 1000);
      const t0 = performance.now();
      try {
        view = await importPeopleCsv(tandem.services.imports, wsId, input, { fileName: 'people.csv' });
      } finally {
        clearTimeout(timer);
        clearInterval(canceller);
      }
      seconds = (performance.now() - t0) / 1000;
    } finally {
      await tandem.close();
    }
    const stored = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM people WHERE workspace_id = $1 AND external_id LIKE 'imp-%'`, [wsId])).rows[0]?.n);

    // The raw baseline: the same file, COPY into a bare table of its columns.
    await pool.query(`DROP TABLE IF EXISTS bench_import_raw;
      CREATE TABLE bench_import_raw (id text, email text, name text, plan text, country text, lifetime_value numeric, signup_source text,
        trial_end date, created_at timestamptz, newsletter boolean)`);
    const client = await pool.connect();
    let rawSeconds: number;
    try {
      const t0 = performance.now();
      await pipeline(createReadStream(file), client.query(copyFrom(`COPY bench_import_raw FROM STDIN (FORMAT csv, HEADER true)`)));
      rawSeconds = (performance.now() - t0) / 1000;
    } finally {
      client.release();
    }
    await pool.query('DROP TABLE bench_import_raw');

    const rate = view.rowsDone / seconds;
    const rawRate = rows / rawSeconds;
    console.log(`5. csv import    ${fmt(rows)} new people (${(bytes / 1e6).toFixed(1)} MB, 10 columns) by importPeopleCsv (in-process) into ${own ? 'a new, empty workspace' : `the benchmark's workspace (${fmt(ctx.people)} people, its segments)`}`);
    console.log(`   tandem          ${fmt(rate)} rows/s  (${seconds.toFixed(1)} s; ${view.status}: ${fmt(view.rowsCreated)} created, ${fmt(view.rowsUpdated)} updated, ${view.rowsFailed} failed; ${fmt(stored)} people stored)${timedOut ? `  STOPPED at the ${timeout} s deadline` : ''}`);
    console.log(`   raw COPY        ${fmt(rawRate)} rows/s  (${rawSeconds.toFixed(1)} s, bare table)`);
    console.log(`   ratio           ${(rate / rawRate).toFixed(2)} of COPY; target >= 20,000 rows/s: ${rate >= 20_000 ? 'met' : 'NOT met'}`);
    // Correctness, not speed, fails the run: every row created, or (stopped at the deadline) exactly
    // the rows the import reports as done, nothing half-imported in silence.
    const complete = timedOut ? stored === view.rowsCreated : view.status === 'done' && view.rowsCreated === rows && stored === rows;
    if (!complete) {
      console.error(`   FAIL: ${stored} people stored, the import reports ${view.rowsCreated} created of ${rows} (status ${view.status}, failure ${JSON.stringify(view.failure)}, first errors ${JSON.stringify(view.errors.slice(0, 3))})`);
      ok = false;
    }
  } finally {
    // A kept database keeps only the generated data: the imported people go.
    if (ctx.flag('keep')) {
      const t0 = performance.now();
      await cleanup();
      console.log(`   (imported people deleted again in ${((performance.now() - t0) / 1000).toFixed(1)} s: the kept database stays as generated)`);
    }
    await pool.end();
    await rm(dir, { recursive: true, force: true });
  }
  return ok;
}
