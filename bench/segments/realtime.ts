// Steps 3 and 4, with Tandem as it runs in production: a `tandem api` process taking events on
// POST /v1/batch and a `tandem worker` process keeping memberships (the dirty-queue drain, the tick).
//   3. events at --rate per second for --seconds into a segment they change ("performed bench_ping
//      where n = <run id>"): latency from the batch's 2xx to the person's 'entered' row (segment_changes.at);
//      then --new-people (default 20,000; smoke 2,000) new user ids whose first call is an event no segment
//      reads, into a segment they match by what they have not done: the same latency, for people who arrive;
//   4. a time-windowed segment ("performed bench_tick in the last 2 minutes"): events timestamped so
//      that members expire at known instants spread over --exit-spread seconds; lateness of the
//      'exited' row after that instant, with the worker's tick at --tick seconds (production default 30).
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { BenchContext } from '../segments.ts';
import { request } from '../http.ts';
import { benchPool, fmt, freePort, pct, sleep, stopChild, until, waitReady } from './util.ts';

interface Stats { p50: number; p90: number; p99: number; max: number; min: number; n: number }
function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: pct(s, 50), p90: pct(s, 90), p99: pct(s, 99), max: s.at(-1) ?? 0, min: s[0] ?? 0, n: s.length };
}

/** Distinct generated people: user-(1 + j·7919 mod N), a scatter over the population. */
function person(j: number, people: number): string {
  const step = people % 7919 === 0 ? 1 : 7919;
  return `user-${1 + ((j * step) % people)}`;
}

export async function realtime(ctx: BenchContext): Promise<boolean> {
  const rate = ctx.opt('rate', 5_000);
  const seconds = ctx.opt('seconds', ctx.smoke ? 2 : 20);
  const batchSize = ctx.opt('batch', 100);
  const tick = ctx.opt('tick', ctx.smoke ? 3 : 30);
  const spread = ctx.opt('exit-spread', ctx.smoke ? 10 : 180);
  const exitPeople = ctx.opt('exit-people', ctx.smoke ? 200 : 2_000);
  const windowMinutes = ctx.smoke ? 1 : 2;
  const total = Math.min(rate * seconds, ctx.people);
  const port = await freePort();
  const env = { ...process.env, DATABASE_URL: ctx.url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', TANDEM_SEGMENT_TICK_SECONDS: String(tick) };
  const children: ChildProcess[] = [];
  const db = benchPool({ connectionString: ctx.url, max: 2 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const appAuth = `Bearer ${ctx.appApiKey}`;
  const writeAuth = `Basic ${Buffer.from(`${ctx.writeKey}:`).toString('base64')}`;
  const runId = Date.now() % 1_000_000_000;
  let ok = true;
  try {
    // What earlier runs on a kept database left: their events and segments.
    await db.query(`DELETE FROM events WHERE workspace_id = $1 AND type = 'track' AND name IN ('bench_ping', 'bench_tick')`, [ctx.workspaceId]);
    await db.query(`DELETE FROM segment_changes WHERE workspace_id = $1 AND segment_id IN (SELECT id FROM segments WHERE workspace_id = $1 AND key LIKE 'bench\\_%')`, [ctx.workspaceId]);
    await db.query(`DELETE FROM segments WHERE workspace_id = $1 AND key LIKE 'bench\\_%'`, [ctx.workspaceId]);
    const profile = (role: string) => (process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, `--cpu-prof-name=${role}.cpuprofile`] : []);
    const api = spawn(process.execPath, [...profile('api'), 'bin/tandem.js', 'api'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(api);
    await waitReady(`http://127.0.0.1:${port}`, api);
    const workerStart = new Date();
    const worker = spawn(process.execPath, [...profile('worker'), 'bin/tandem.js', 'worker'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(worker);
    await until('the worker to start', 60_000, async () => (await db.query('SELECT 1 FROM worker_heartbeats')).rowCount! > 0);

    // The five segments' build jobs (queued when step 2 made them) run first in the worker; the
    // load starts once they are done, as it would on a server that has been up for a while.
    const b0 = performance.now();
    const pendingBuilds = async () => Number((await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM segments WHERE workspace_id = $1 AND kind = 'dynamic' AND (status = 'building' OR evaluated_at < $2)`,
      [ctx.workspaceId, workerStart])).rows[0]?.n);
    const queued = await pendingBuilds();
    await until('the segments built by the worker', 15 * 60_000, async () => (await pendingBuilds()) === 0, 250);
    const timeBased = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM segments WHERE workspace_id = $1 AND time_based`, [ctx.workspaceId])).rows[0]?.n);
    console.log(`3. real-time     worker up; it rebuilt ${queued} segments in ${((performance.now() - b0) / 1000).toFixed(1)} s (their queued build jobs); ${timeBased} time-based segments ticking every ${tick} s`);

    const makeSegment = async (key: string, definition: unknown): Promise<string> => {
      const r = await request(agent, port, 'POST', '/api/segments', appAuth, { key, name: key, definition });
      const id = (r.json as { id?: string } | null)?.id;
      if (r.status !== 201 || !id) throw new Error(`POST /api/segments answered ${r.status}: ${JSON.stringify(r.json)}`);
      await until(`segment ${key} ready`, 120_000, async () => {
        const g = await request(agent, port, 'GET', `/api/segments/${id}`, appAuth);
        return (g.json as { status?: string } | null)?.status === 'ready';
      }, 100);
      return id;
    };
    const changes = async (segmentId: string, change: 'entered' | 'exited') => (await db.query<{ user: string; at: Date }>(`
      SELECT pi.value AS user, sc.at FROM segment_changes sc
      JOIN person_identifiers pi ON pi.workspace_id = sc.workspace_id AND pi.person_id = sc.person_id AND pi.kind = 'user'
      WHERE sc.workspace_id = $1 AND sc.segment_id = $2 AND sc.change = $3`, [ctx.workspaceId, segmentId, change])).rows;
    const changeCount = async (segmentId: string, change: 'entered' | 'exited') => Number((await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM segment_changes WHERE workspace_id = $1 AND segment_id = $2 AND change = $3', [ctx.workspaceId, segmentId, change])).rows[0]?.n);

    /** Offers `count` events at `rate`, one person each, in batches; when each person's batch was answered 2xx. */
    const offer = async (count: number, event: (j: number) => { userId: string; [k: string]: unknown }) => {
      const accepted = new Map<string, number>();
      const batchMs: number[] = [];
      let refused = 0;
      const t0 = Date.now() + 100;
      await Promise.all(Array.from({ length: Math.ceil(count / batchSize) }, async (_, b) => {
        const wait = t0 + (b * batchSize * 1000) / rate - Date.now();
        if (wait > 0) await sleep(wait);
        const batch = [];
        for (let j = b * batchSize; j < Math.min(count, (b + 1) * batchSize); j++) batch.push({ ...event(j), timestamp: new Date().toISOString() });
        const s = Date.now();
        const r = await request(agent, port, 'POST', '/v1/batch', writeAuth, { batch });
        const at = Date.now();
        batchMs.push(at - s);
        if (r.status !== 200) { refused += batch.length; return; }
        for (const e of batch) accepted.set(e.userId, at);
      }));
      return { accepted, batchMs, refused, sendSeconds: (Date.now() - t0) / 1000 };
    };
    /** Waits for every accepted person's entry and prints the latency from the 2xx; false if any is missing. */
    const report = async (segmentId: string, count: number, o: Awaited<ReturnType<typeof offer>>): Promise<boolean> => {
      await until('every accepted event to enter its person', 600_000, async () => (await changeCount(segmentId, 'entered')) >= o.accepted.size, 100);
      const entered = await changes(segmentId, 'entered');
      const lat = stats(entered.filter((e) => o.accepted.has(e.user)).map((e) => e.at.getTime() - o.accepted.get(e.user)!));
      const bl = stats(o.batchMs);
      console.log(`   load            ${fmt(count)} events sent at ${fmt(rate)}/s in batches of ${batchSize}; all answered after ${o.sendSeconds.toFixed(1)} s (${fmt(count / o.sendSeconds)} events/s); batch 2xx p50 ${bl.p50} ms, p99 ${bl.p99} ms; refused ${o.refused}`);
      console.log(`   event → entered p50 ${lat.p50} ms, p90 ${lat.p90} ms, p99 ${lat.p99} ms, max ${lat.max} ms  (${lat.n} entries; from the batch's 2xx to segment_changes.at)`);
      console.log(`   target p99 <= 1 s: ${lat.p99 <= 1000 ? 'met' : 'NOT met'}`);
      if (o.refused > 0 || lat.n !== o.accepted.size) {
        console.error(`   FAIL: ${o.refused} events refused; ${lat.n} entries for ${o.accepted.size} accepted events`);
        return false;
      }
      return true;
    };

    // ---- 3. latency from acceptance to entry ----
    const pingId = await makeSegment(`bench_ping_${runId}`, { type: 'event', name: 'bench_ping', where: [{ path: 'n', op: 'equals', value: runId }] });
    ok = await report(pingId, total, await offer(total, (j) => ({ type: 'track', event: 'bench_ping', userId: person(j, ctx.people), messageId: `ping-${runId}-${j}`, properties: { n: runId } })));

    // ---- 3b. new people, into a segment they match by what they have not done ----
    // Their first call is an event no segment reads; every dynamic segment evaluates them (docs/segments.md).
    const fresh = Math.min(total, ctx.opt('new-people', ctx.smoke ? 2_000 : 20_000));
    const newId = await makeSegment(`bench_new_${runId}`, { type: 'and', conditions: [
      { type: 'attribute', path: 'id', op: 'starts_with', value: `new-${runId}-` }, { type: 'event', name: 'purchase', performed: false }] });
    console.log(`   new people      ${fmt(fresh)} new user ids, first call an unrelated event, into "id starts with new-${runId}- and never purchased"`);
    ok = (await report(newId, fresh, await offer(fresh, (j) => ({ type: 'track', event: 'bench_visit', userId: `new-${runId}-${j}`, messageId: `new-${runId}-${j}` })))) && ok;

    // ---- 4. time-based exits ----
    const windowMs = windowMinutes * 60_000;
    const tickId = await makeSegment(`bench_tick_${runId}`, { type: 'event', name: 'bench_tick', within: { last: windowMinutes, unit: 'minutes' } });
    const lead = 8_000; // everyone is in before the first expiry
    const T0 = Date.now() + lead;
    const expires = new Map<string, number>();
    const events = Array.from({ length: exitPeople }, (_, j) => {
      const userId = person(total + j, ctx.people);
      const expireAt = T0 + Math.round((spread * 1000 * j) / Math.max(1, exitPeople - 1));
      expires.set(userId, expireAt);
      return { type: 'track', event: 'bench_tick', userId, messageId: `tick-${runId}-${j}`, timestamp: new Date(expireAt - windowMs).toISOString() };
    });
    for (let i = 0; i < events.length; i += batchSize) {
      const r = await request(agent, port, 'POST', '/v1/batch', writeAuth, { batch: events.slice(i, i + batchSize) });
      if (r.status !== 200) throw new Error(`POST /v1/batch answered ${r.status}`);
    }
    await until('the expiring people to enter', 60_000, async () => (await changeCount(tickId, 'entered')) >= exitPeople, 100);
    const margin = (T0 - Date.now()) / 1000;
    console.log(`4. time exits    ${exitPeople} members of "performed bench_tick in the last ${windowMinutes} min" expiring evenly over ${spread} s (all entered ${margin.toFixed(1)} s before the first expiry), tick every ${tick} s`);
    await until('every expired person to exit', (spread + 3 * tick + 180) * 1000, async () => (await changeCount(tickId, 'exited')) >= exitPeople, 500);
    const exited = await changes(tickId, 'exited');
    const late = stats(exited.map((e) => e.at.getTime() - expires.get(e.user)!));
    console.log(`   lateness        p50 ${(late.p50 / 1000).toFixed(1)} s, p99 ${(late.p99 / 1000).toFixed(1)} s, max ${(late.max / 1000).toFixed(1)} s, min ${(late.min / 1000).toFixed(1)} s  (${late.n} exits; segment_changes.at − the instant the window passed)`);
    console.log(`   target p99 <= 60 s: ${late.p99 <= 60_000 ? 'met' : 'NOT met'}`);
    if (late.min < 0) {
      console.error('   FAIL: a person exited before their window passed');
      ok = false;
    }
  } finally {
    agent.destroy();
    await db.end();
    for (const c of children.reverse()) await stopChild(c);
  }
  return ok;
}
