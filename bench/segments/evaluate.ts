// Step 2: the five segments, Tandem's compiled count beside the hand-written query; the membership
// build; --plans: the plan of each compiled query. Tandem runs in this process (its services, a clock
// fixed at the data's anchor), so both sides see the same "now" and must give the same count.
import type pg from 'pg';
import type { Clock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { openTandem } from '../../src/main.ts';
import type { Services } from '../../src/services.ts';
import type { BenchContext } from '../segments.ts';
import { SEGMENTS } from './queries.ts';
import { benchPool } from './util.ts';

const RUNS = 3;

async function time<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Tandem's services on the bench database, with the clock stopped at `now`. */
export async function openInProcess(url: string, now?: Date): Promise<{ services: Services; close(): Promise<void> }> {
  const config = loadConfig({ ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' });
  const clock: Clock | undefined = now ? { now: () => new Date(now.getTime()) } : undefined;
  const t = await openTandem(config, createLogger({ logLevel: 'warn' }, 'stderr'), { dbRole: 'cli', migrate: false, ...(clock ? { clock } : {}) });
  return { services: t.services, close: () => t.close() };
}

/** Removes what earlier runs on a kept database left: the bench's segments, their history and queue. */
export async function resetSegments(pool: pg.Pool, ws: string): Promise<void> {
  await pool.query('DELETE FROM segment_changes WHERE workspace_id = $1', [ws]);
  await pool.query('DELETE FROM segment_dirty WHERE workspace_id = $1', [ws]);
  await pool.query('DELETE FROM segments WHERE workspace_id = $1', [ws]);
}

export async function evaluate(ctx: BenchContext): Promise<boolean> {
  // UTC: "interval '7 days'" is then 7 × 24 h, as in Tandem's windows.
  const pool = benchPool({ connectionString: ctx.url, max: 2, options: '-c TimeZone=UTC' });
  const tandem = await openInProcess(ctx.url, ctx.anchor);
  const segments = tandem.services.segments;
  let ok = true;
  try {
    await resetSegments(pool, ctx.workspaceId);
    console.log(`2. evaluate      five segments from scratch, clock at the data's anchor ${ctx.anchor.toISOString()}; median of ${RUNS} warm runs`);
    const hand = (sql: string) => pool.query<{ n: string }>(sql, sql.includes('$2') ? [ctx.workspaceId, ctx.anchor.toISOString()] : [ctx.workspaceId])
      .then((r) => Number(r.rows[0]?.n));
    const tandemCount = (def: (typeof SEGMENTS)[number]['definition']) => segments.count(ctx.workspaceId, def);
    const ratios: number[] = [];
    console.log(`   ${'segment'.padEnd(22)} ${'members'.padStart(9)} ${'tandem s'.padStart(9)} ${'hand s'.padStart(8)} ${'ratio'.padStart(6)}`);
    for (const s of SEGMENTS) {
      // Warm both (buffers, plans), then alternate the timed runs so that neither profits from the other.
      const [warmT, warmH] = [await tandemCount(s.definition), await hand(s.sql)];
      const tt: number[] = [];
      const th: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const a = await time(() => tandemCount(s.definition));
        const b = await time(() => hand(s.sql));
        tt.push(a.seconds);
        th.push(b.seconds);
        if (a.value !== warmT || b.value !== warmH) throw new Error(`${s.key}: the count changed between runs`);
      }
      const ratio = median(tt) / median(th);
      ratios.push(ratio);
      console.log(`   ${s.key.padEnd(22)} ${String(warmT).padStart(9)} ${median(tt).toFixed(3).padStart(9)} ${median(th).toFixed(3).padStart(8)} ${ratio.toFixed(2).padStart(6)}${ratio > 1.5 ? '  (> 1.5)' : ''}`);
      if (warmT !== warmH) {
        console.error(`   FAIL ${s.key}: Tandem counts ${warmT}, the hand-written query ${warmH}`);
        ok = false;
      }
    }
    const worst = Math.max(...ratios);
    console.log(`   ratio target <= 1.5 for each: ${worst <= 1.5 ? 'met' : 'NOT met'} (worst ${worst.toFixed(2)})`);

    if (ctx.flag('plans')) {
      for (const s of SEGMENTS) {
        const c = await segments.compiledSql(ctx.workspaceId, s.definition);
        const plan = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${c.sql}`, c.parameters as unknown[]);
        console.log(`   plan ${s.key}:\n${plan.rows.map((r) => `     ${r['QUERY PLAN']}`).join('\n')}`);
      }
    }

    // Membership from scratch: Tandem writes segment_members (and the 'entered' history) for each.
    console.log(`   membership build (segment_members written from scratch):`);
    for (const s of SEGMENTS) {
      const { id } = await segments.create(ctx.workspaceId, { key: s.key, name: s.name, definition: s.definition });
      const r = await time(() => segments.rebuild(ctx.workspaceId, id));
      const members = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM segment_members WHERE workspace_id = $1 AND segment_id = $2', [ctx.workspaceId, id])).rows[0]?.n);
      const expected = await tandemCount(s.definition);
      console.log(`   ${s.key.padEnd(22)} ${String(members).padStart(9)} members  ${r.seconds.toFixed(2)} s  (entered ${r.value.entered}, exited ${r.value.exited})`);
      if (members !== expected) {
        console.error(`   FAIL ${s.key}: ${members} members stored, the count says ${expected}`);
        ok = false;
      }
    }
  } finally {
    await tandem.close();
    await pool.end();
  }
  return ok;
}
