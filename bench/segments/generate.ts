// The segments benchmark's data: a seeded, reproducible workspace of people, events and messages,
// generated inside PostgreSQL (INSERT … SELECT generate_series: nothing crosses the wire).
//
// Every random choice is u(i, stream) = hashint8extended(i, seed·1000 + stream) scaled to [0, 1): a
// pure function of the row number, so the same seed gives the same rows whatever the plan, the
// order of evaluation or the number of connections (setseed/random() would depend on all three).
// Instants are offsets from an anchor (the generation time): the benchmark evaluates segments with
// a clock fixed at the anchor, so a kept database gives the same counts on every run.
//
// People (N, default 1,000,000), in one workspace made by `tandem workspace create`:
//   external_id user-<i> (a person_identifiers 'user' row each), email user-<i>@example.{com,org,net}
//   or @mail.example, id a v4-shaped UUID from md5(seed:i); attributes:
//     plan           free 55% · trial 15% · pro 22% · business 8%
//     country        US 30% · GB 10% · DE 9% · IN 8% · FR 7% · CA 6% · BR 5% · ES 4% · 16 more
//     trial_end      trial people only: an ISO instant, anchor −10 … +20 days (uniform)
//     lifetime_value 5000·u³, two decimals (median 625; 72% above 100)
//     signup_source  organic 45% · ads 35% · referral 20%
//     created_at     an ISO instant, anchor −720 … 0 days (also the created_at column)
//   suppressions: 1% of the emails (channel email, reason hard_bounce, source bounce).
// Events (10·N): track events over the 90 days before the anchor, evenly spaced in row order (the
//   table is in time order, as an append-only log is). Who: three tiers of activity, 2% of people make
//   35% of the events (~175 each), 18% make 40% (~22), 80% make 25% (~3; many none); the tiers are
//   scattered over the people (a multiplicative permutation of the row numbers). Names: page_viewed
//   45% {path}, login 25% {method}, feature_used 22% {feature: a person's favourite 80% of the time,
//   favourites export 15% · share 20% · import 10% · search 25% · dashboard 15% · report 10% · api 5%},
//   purchase 4.5% {amount 5…505, currency}, signup 3.2%, invited_teammate 0.3% {role}.
// Messages (0.3·N): email, status sent, template welcome 40% / digest 60%, to a uniform person, sent
//   evenly over the 90 days; message_events: 30% have an 'opened' row (0–48 h after sending), 5% also a
//   'clicked' row (a few minutes after the open).
import type pg from 'pg';

export interface GenerateOptions {
  workspaceId: string;
  people: number;
  events: number;
  messages: number;
  seed: number;
  anchor: Date;
}

export interface GenerateTimings { [step: string]: number }

type Choice = readonly [string, number];
export const PLANS: Choice[] = [['free', 55], ['trial', 15], ['pro', 22], ['business', 8]];
export const COUNTRIES: Choice[] = [
  ['US', 30], ['GB', 10], ['DE', 9], ['IN', 8], ['FR', 7], ['CA', 6], ['BR', 5], ['ES', 4], ['NL', 3], ['AU', 3],
  ['JP', 2.5], ['IT', 2.5], ['SE', 1.5], ['PL', 1.5], ['MX', 1.5], ['IE', 1], ['CH', 1], ['BE', 1], ['SG', 1], ['NZ', 1],
  ['ZA', 0.5], ['PT', 0.5], ['AR', 0.5], ['KR', 0.5],
];
export const SOURCES: Choice[] = [['organic', 45], ['ads', 35], ['referral', 20]];
export const EVENT_NAMES: Choice[] = [
  ['page_viewed', 45], ['login', 25], ['feature_used', 22], ['purchase', 4.5], ['signup', 3.2], ['invited_teammate', 0.3],
];
export const FEATURES: Choice[] = [['export', 15], ['share', 20], ['import', 10], ['search', 25], ['dashboard', 15], ['report', 10], ['api', 5]];
const PATHS: Choice[] = [['/', 30], ['/pricing', 15], ['/docs', 25], ['/blog', 15], ['/settings', 10], ['/billing', 5]];
const LOGIN_METHODS: Choice[] = [['password', 60], ['google', 30], ['sso', 10]];
const ROLES: Choice[] = [['member', 80], ['admin', 20]];

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** A CASE expression choosing among weighted choices by `u` (a column in [0, 1)). */
function pick(u: string, choices: readonly Choice[]): string {
  const total = choices.reduce((n, [, w]) => n + w, 0);
  let acc = 0;
  const arms = choices.slice(0, -1).map(([v, w]) => {
    acc += w;
    return `WHEN ${u} < ${acc / total} THEN ${lit(v)}`;
  });
  return `(CASE ${arms.join(' ')} ELSE ${lit(choices.at(-1)![0])} END)`;
}

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const iso = (ts: string) => `to_char((${ts}) AT TIME ZONE 'UTC', ${ISO})`;

/** The SQL functions the generator's statements use, created for the run and dropped after it. */
function functionsSql(seed: number): string {
  return `
CREATE OR REPLACE FUNCTION bench_u(i bigint, stream int) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
  $$ SELECT (hashint8extended(i, ${seed * 1000}::bigint + stream) & 2147483647)::float8 / 2147483648.0 $$;
CREATE OR REPLACE FUNCTION bench_pid(i bigint) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
  $$ SELECT overlay(overlay(md5('${seed}:' || i) PLACING '4' FROM 13) PLACING '8' FROM 17)::uuid $$;
CREATE OR REPLACE FUNCTION bench_email(i bigint) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
  $$ SELECT 'user-' || i || '@' || (ARRAY['example.com', 'example.org', 'example.net', 'mail.example'])[1 + i % 4] $$;`;
}
const DROP_FUNCTIONS = 'DROP FUNCTION IF EXISTS bench_u(bigint, int), bench_pid(bigint), bench_email(bigint)';

/** Person identifier (the generator's person id for row i): callers use it to address generated people. */
export const externalId = (i: number) => `user-${i}`;

function peopleSql(): string {
  return `
INSERT INTO people (workspace_id, id, external_id, email, attributes, identified, created_at, updated_at)
SELECT $1, bench_pid(i), 'user-' || i, bench_email(i),
  jsonb_build_object('plan', plan, 'country', country, 'lifetime_value', round((5000 * u_ltv ^ 3)::numeric, 2),
    'signup_source', source, 'created_at', ${iso('created')})
  || CASE WHEN plan = 'trial' THEN jsonb_build_object('trial_end', ${iso(`$2::timestamptz + (u_trial * 30 - 10) * interval '1 day'`)}) ELSE '{}' END,
  true, created, created
FROM (
  SELECT i, ${pick('u_plan', PLANS)} AS plan, ${pick('u_country', COUNTRIES)} AS country, ${pick('u_source', SOURCES)} AS source,
    u_ltv, u_trial, date_trunc('milliseconds', $2::timestamptz - u_created * interval '720 days') AS created
  FROM (SELECT i, bench_u(i, 1) AS u_plan, bench_u(i, 2) AS u_country, bench_u(i, 3) AS u_source, bench_u(i, 4) AS u_ltv,
      bench_u(i, 5) AS u_trial, bench_u(i, 6) AS u_created
    FROM generate_series(1, $3::bigint) i OFFSET 0) u
  OFFSET 0) g`;
}

const IDENTIFIERS_SQL = `
INSERT INTO person_identifiers (workspace_id, kind, value, person_id, created_at)
SELECT workspace_id, 'user', external_id, id, created_at FROM people WHERE workspace_id = $1`;

const SUPPRESSIONS_SQL = `
INSERT INTO suppressions (workspace_id, channel, address, reason, source, created_at)
SELECT $1, 'email', bench_email(i), 'hard_bounce', 'bounce', $2::timestamptz - bench_u(i, 8) * interval '180 days'
FROM generate_series(1, $3::bigint) i WHERE bench_u(i, 7) < 0.01`;

// A prime above any people count: k ↦ k·PERMUTE mod N is a permutation of 0…N−1 (N not a multiple of it).
const PERMUTE = 2_147_483_647;

// Events: $1 workspace, $2 anchor, $3 people, $4 first row, $5 last row, $6 seconds between events.
function eventsSql(): string {
  const props = `CASE name
    WHEN 'page_viewed' THEN jsonb_build_object('path', ${pick('u_prop', PATHS)})
    WHEN 'login' THEN jsonb_build_object('method', ${pick('u_prop', LOGIN_METHODS)})
    WHEN 'feature_used' THEN jsonb_build_object('feature', CASE WHEN u_recv < 0.8 THEN ${pick('bench_u(p, 16)', FEATURES)} ELSE ${pick('u_prop', FEATURES)} END)
    WHEN 'purchase' THEN jsonb_build_object('amount', round((5 + 500 * u_prop ^ 2)::numeric, 2), 'currency', 'USD')
    WHEN 'invited_teammate' THEN jsonb_build_object('role', ${pick('u_prop', ROLES)})
    ELSE '{}' END`;
  return `
INSERT INTO events (workspace_id, person_id, message_id, type, name, properties, user_id, source, timestamp, received_at)
SELECT $1, bench_pid(p), 'gen-' || i, 'track', name, ${props}, 'user-' || p, 'segment', ts, ts + (1 + u_recv * 4) * interval '1 second'
FROM (
  SELECT i, 1 + (least($3::bigint - 1, CASE
      WHEN u_tier < 0.35 THEN floor(0.02 * $3::bigint * u_person)
      WHEN u_tier < 0.75 THEN floor(0.02 * $3::bigint) + floor(0.18 * $3::bigint * u_person)
      ELSE floor(0.2 * $3::bigint) + floor(0.8 * $3::bigint * u_person) END)::bigint * ${PERMUTE}) % $3::bigint AS p,
    ${pick('u_name', EVENT_NAMES)} AS name, u_prop, u_recv,
    date_trunc('milliseconds', $2::timestamptz - interval '90 days' + (i - 1) * $6::float8 * interval '1 second') AS ts
  FROM (SELECT i, bench_u(i, 11) AS u_person, bench_u(i, 12) AS u_name, bench_u(i, 13) AS u_prop, bench_u(i, 14) AS u_recv,
      bench_u(i, 15) AS u_tier
    FROM generate_series($4::bigint, $5::bigint) i OFFSET 0) u
  OFFSET 0) g`;
}

// Messages: $1 workspace, $2 anchor, $3 people, $4 messages, $5 seconds between sends, $6 welcome id, $7 digest id.
const MESSAGES_SQL = `
INSERT INTO messages (workspace_id, id, idempotency_key, person_id, channel, source, template_id, template_version,
  to_address, request, status, attempts, provider, created_at, updated_at, sent_at)
SELECT $1, 'msg_gen_' || i, 'gen-' || i, bench_pid(p), 'email', 'broadcast', CASE WHEN u_tpl < 0.4 THEN $6 ELSE $7 END, 1,
  bench_email(p), '{}', 'sent', 1, 'bench', ts - interval '2 seconds', ts, ts
FROM (
  SELECT i, 1 + floor($3::bigint * bench_u(i, 21))::bigint AS p, bench_u(i, 22) AS u_tpl,
    date_trunc('milliseconds', $2::timestamptz - interval '90 days' + (i - 1) * $5::float8 * interval '1 second') AS ts
  FROM generate_series(1, $4::bigint) i OFFSET 0) g`;

// Opens (30%) and clicks (5%, all among the opened): $1 workspace, $2 anchor, $3 messages, $4 seconds between sends.
const MESSAGE_EVENTS_SQL = `
INSERT INTO message_events (workspace_id, message_id, type, at, data)
SELECT $1, 'msg_gen_' || i, t.type, least($2::timestamptz, ts + u_open * interval '48 hours' + t.after), '{}'
FROM (
  SELECT i, bench_u(i, 23) AS u_act, bench_u(i, 24) AS u_open,
    date_trunc('milliseconds', $2::timestamptz - interval '90 days' + (i - 1) * $4::float8 * interval '1 second') AS ts
  FROM generate_series(1, $3::bigint) i OFFSET 0) g
CROSS JOIN (VALUES ('opened', 0.30, interval '0'), ('clicked', 0.05, interval '3 minutes')) AS t(type, share, after)
WHERE u_act < t.share
ORDER BY i, t.after`;

const TABLES = ['people', 'person_identifiers', 'events', 'messages', 'message_events', 'suppressions'];

async function timed(timings: GenerateTimings, step: string, fn: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  await fn();
  timings[step] = (performance.now() - t0) / 1000;
}

/**
 * Fills the (empty) workspace. Secondary indexes are dropped first and rebuilt after the load (a
 * bulk build is several times faster than maintaining them row by row), then VACUUM ANALYZE.
 * Two connections (the machine's cores): events on one, everything else on the other, which then
 * helps with the events; then index builds on both.
 */
export async function generate(pool: pg.Pool, o: GenerateOptions, progress: (line: string) => void): Promise<GenerateTimings> {
  const timings: GenerateTimings = {};
  const anchor = o.anchor.toISOString();
  const session = 'SET synchronous_commit = off; SET maintenance_work_mem = \'256MB\'; SET work_mem = \'64MB\'';
  const a = await pool.connect();
  const b = await pool.connect();
  try {
    await a.query(session);
    await b.query(session);
    await a.query(functionsSql(o.seed));
    const indexes = (await a.query<{ name: string; def: string; table: string }>(`
      SELECT i.indexname AS name, i.indexdef AS def, i.tablename AS table FROM pg_indexes i
      WHERE i.schemaname = 'public' AND i.tablename = ANY($1)
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`, [TABLES])).rows;
    for (const ix of indexes) await a.query(`DROP INDEX ${ix.name}`);

    const templates = (await a.query<{ id: string; name: string }>(
      `SELECT id, name FROM content_resources WHERE workspace_id = $1 AND kind = 'template' AND name IN ('welcome', 'digest')`, [o.workspaceId])).rows;
    const tpl = (name: string) => templates.find((t) => t.name === name)?.id ?? name;

    const t0 = performance.now();
    const eventStep = (90 * 86_400) / o.events;
    const msgStep = (90 * 86_400) / Math.max(1, o.messages);
    // Events in blocks taken in order by both connections: pages of adjacent blocks interleave, so the
    // table stays in time order to within a block (~1 day of events at the full size).
    const block = Math.max(10_000, Math.ceil(o.events / 40));
    let next = 1;
    let done = 0;
    let lastReport = 0;
    const eventsLoad = async (c: pg.PoolClient) => {
      while (next <= o.events) {
        const lo = next;
        const hi = Math.min(o.events, lo + block - 1);
        next = hi + 1;
        await c.query(eventsSql(), [o.workspaceId, anchor, o.people, lo, hi, eventStep]);
        done += hi - lo + 1;
        if (performance.now() - lastReport > 15_000 || done === o.events) {
          lastReport = performance.now();
          progress(`   events ${done.toLocaleString('en-US')} / ${o.events.toLocaleString('en-US')}  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
        }
      }
      timings.events = (performance.now() - t0) / 1000;
    };
    const rest = async (c: pg.PoolClient) => {
      await timed(timings, 'people', () => c.query(peopleSql(), [o.workspaceId, anchor, o.people]));
      await timed(timings, 'person_identifiers', () => c.query(IDENTIFIERS_SQL, [o.workspaceId]));
      await timed(timings, 'suppressions', () => c.query(SUPPRESSIONS_SQL, [o.workspaceId, anchor, o.people]));
      await timed(timings, 'messages', () => c.query(MESSAGES_SQL, [o.workspaceId, anchor, o.people, o.messages, msgStep, tpl('welcome'), tpl('digest')]));
      await timed(timings, 'message_events', () => c.query(MESSAGE_EVENTS_SQL, [o.workspaceId, anchor, o.messages, msgStep]));
      await eventsLoad(c);
    };
    await Promise.all([eventsLoad(a), rest(b)]);
    timings.load = (performance.now() - t0) / 1000;

    // Rebuild the indexes, the biggest first, on both connections.
    const t1 = performance.now();
    const queue = [...indexes].sort((x, y) => (x.table === 'events' ? 0 : 1) - (y.table === 'events' ? 0 : 1));
    await Promise.all([a, b].map(async (c) => {
      for (let ix = queue.shift(); ix; ix = queue.shift()) await c.query(ix.def);
    }));
    timings.indexes = (performance.now() - t1) / 1000;

    await a.query(DROP_FUNCTIONS);
    const t2 = performance.now();
    await Promise.all([
      a.query('VACUUM (ANALYZE) events'),
      (async () => { for (const t of TABLES.filter((x) => x !== 'events')) await b.query(`VACUUM (ANALYZE) ${t}`); })(),
    ]);
    timings.vacuum = (performance.now() - t2) / 1000;
    return timings;
  } finally {
    a.release();
    b.release();
  }
}
