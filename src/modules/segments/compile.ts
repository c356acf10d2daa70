// The compiler: a segment definition -> one SQL boolean expression over `people p` (Kysely `sql`).
// Every leaf is TRUE or FALSE, never NULL, so NOT and OR mean what a marketer reads. Event, message,
// topic and list conditions are `p.id IN (…)` / `NOT EXISTS (…)` sub-queries that PostgreSQL turns into
// semi- and anti-joins on the indexes of migration 0013; NOT is pushed down to the leaves so that a
// "has not performed" becomes an anti-join rather than a per-person probe.
import { sql, type RawBuilder } from 'kysely';
import type { PERSON_FIELDS} from './definition.ts';
import { UNIT_MS, type Condition, type EventCondition, type Leaf, type MessageCondition, type ValueTest, type Window } from './definition.ts';

export interface ResolvedSegment { id: string; kind: 'dynamic' | 'manual'; definition: Condition | null }
export interface ResolvedTopic { id: string; default: 'opt_in' | 'opt_out' }

/** What the definition's references point at, looked up before compiling (see refs.ts). */
export interface Refs {
  segments: Map<string, ResolvedSegment>;
  topics: Map<string, ResolvedTopic>;
  templates: Map<string, string>;
}

export interface CompileContext {
  workspaceId: string;
  now: Date;
  refs: Refs;
  /**
   * Re-evaluating only these people (the drain): every sub-query is restricted to them too, so its
   * work is proportional to the batch (an index probe per person) rather than to the whole workspace.
   */
  only?: readonly string[] | undefined;
}

type Bool = RawBuilder<boolean>;
const TRUE = sql<boolean>`TRUE`;
const FALSE = sql<boolean>`FALSE`;

/** `col = ANY(only)` when compiling for some people, else TRUE. */
function among(col: string, ctx: CompileContext): Bool {
  return ctx.only ? sql<boolean>`${sql.ref(col)} = ANY(${[...ctx.only]}::uuid[])` : TRUE;
}

export function compile(c: Condition, ctx: CompileContext): Bool {
  return node(c, ctx, false);
}

function node(c: Condition, ctx: CompileContext, negate: boolean): Bool {
  switch (c.type) {
    case 'and': case 'or': {
      // De Morgan: NOT (a AND b) = NOT a OR NOT b.
      const isAnd = (c.type === 'and') !== negate;
      if (c.conditions.length === 0) return isAnd ? TRUE : FALSE; // empty AND: everyone; empty OR: no one
      const parts = c.conditions.map((x) => node(x, ctx, negate));
      return sql<boolean>`(${sql.join(parts, isAnd ? sql` AND ` : sql` OR `)})`;
    }
    case 'not': return node(c.condition, ctx, !negate);
    case 'event': return eventLeaf(c, ctx, negate);
    case 'segment': return segmentLeaf(c.segment, c.member !== negate, ctx);
    case 'attribute': case 'group': case 'topic': case 'message': case 'reachability': {
      const expr = leaf(c, ctx);
      return negate ? sql<boolean>`NOT ${expr}` : expr;
    }
  }
}

function leaf(c: Exclude<Leaf, EventCondition | { type: 'segment' }>, ctx: CompileContext): Bool {
  const ws = ctx.workspaceId;
  switch (c.type) {
    case 'attribute': return valueTest(personValue(c.path), c, ctx);
    case 'group': return sql<boolean>`p.id IN (SELECT r.person_id FROM object_relationships r
      JOIN objects o ON o.workspace_id = r.workspace_id AND o.object_type = r.object_type AND o.object_id = r.object_id
      WHERE r.workspace_id = ${ws} AND r.object_type = ${c.objectType} AND ${among('r.person_id', ctx)} AND ${valueTest(jsonPath(sql`o.attributes`, c.path), c, ctx)})`;
    case 'topic': {
      const t = ctx.refs.topics.get(c.topic);
      if (!t) return FALSE;
      const explicit = sql<boolean>`p.id IN (SELECT s.person_id FROM topic_subscriptions s
        WHERE s.workspace_id = ${ws} AND s.topic_id = ${t.id} AND s.state = ${c.state} AND ${among('s.person_id', ctx)})`;
      const defaultState = t.default === 'opt_out' ? 'subscribed' : 'unsubscribed';
      if (c.state !== defaultState) return explicit;
      return sql<boolean>`(${explicit} OR NOT EXISTS (SELECT 1 FROM topic_subscriptions s
        WHERE s.workspace_id = ${ws} AND s.person_id = p.id AND s.topic_id = ${t.id}))`;
    }
    case 'message': {
      const expr = messageLeaf(c, ctx);
      return c.performed ? expr : sql<boolean>`NOT ${expr}`;
    }
    case 'reachability': {
      const has = (col: 'email' | 'phone') => sql<boolean>`coalesce(${sql.ref(`p.${col}`)} <> '', false)`;
      const notSuppressed = (col: 'email' | 'phone') => sql<boolean>`NOT EXISTS (SELECT 1 FROM suppressions s
        WHERE s.workspace_id = ${ws} AND s.channel = ${col === 'email' ? 'email' : 'sms'}
        AND s.address = ${col === 'email' ? sql`lower(btrim(p.email))` : sql`regexp_replace(p.phone, '[\\s().-]', '', 'g')`})`;
      let expr: Bool;
      switch (c.check) {
        case 'has_email': expr = has('email'); break;
        case 'has_phone': expr = has('phone'); break;
        case 'email_not_suppressed': expr = sql<boolean>`(${has('email')} AND ${notSuppressed('email')})`; break;
        case 'phone_not_suppressed': expr = sql<boolean>`(${has('phone')} AND ${notSuppressed('phone')})`; break;
      }
      return c.negate ? sql<boolean>`NOT ${expr}` : expr;
    }
  }
}

function segmentLeaf(ref: string, member: boolean, ctx: CompileContext): Bool {
  const s = ctx.refs.segments.get(ref);
  if (!s) return member ? FALSE : TRUE;
  if (s.kind === 'dynamic' && s.definition) return node(s.definition, ctx, !member); // inlined: exact, even mid-build
  const inList = sql<boolean>`p.id IN (SELECT m.person_id FROM segment_members m WHERE m.workspace_id = ${ctx.workspaceId} AND m.segment_id = ${s.id} AND ${among('m.person_id', ctx)})`;
  return member ? inList : sql<boolean>`NOT EXISTS (SELECT 1 FROM segment_members m
    WHERE m.workspace_id = ${ctx.workspaceId} AND m.segment_id = ${s.id} AND m.person_id = p.id)`;
}

/** Where a window starts and ends (inclusive); `to` absent means open-ended. */
export function windowBounds(w: Window | undefined, now: Date): { from?: Date; to?: Date } {
  if (!w) return {};
  if ('last' in w) return { from: new Date(now.getTime() - w.last * UNIT_MS[w.unit]) };
  return { from: startOf(w.from), to: endOf(w.to) };
}
const isDateOnly = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);
const startOf = (s: string) => new Date(isDateOnly(s) ? `${s}T00:00:00.000Z` : s);
/** A date-only end means the whole of that day. */
const endOf = (s: string) => (isDateOnly(s) ? new Date(new Date(`${s}T00:00:00.000Z`).getTime() + 86_400_000 - 1) : new Date(s));

function timeFilter(col: RawBuilder<unknown>, w: Window | undefined, now: Date): Bool[] {
  const { from, to } = windowBounds(w, now);
  const out: Bool[] = [];
  if (from) out.push(sql<boolean>`${col} >= ${from}::timestamptz`);
  if (to) out.push(sql<boolean>`${col} <= ${to}::timestamptz`);
  return out;
}

function eventLeaf(c: EventCondition, ctx: CompileContext, negate: boolean): Bool {
  const ws = ctx.workspaceId;
  const props = (c.where ?? []).map((f) => valueTest(jsonPath(sql`e.properties`, f.path), f, ctx));
  const base = [sql<boolean>`e.workspace_id = ${ws}`, sql<boolean>`e.type = 'track'`, sql<boolean>`e.name = ${c.name}`, ...props];
  const someone = [sql<boolean>`e.person_id IS NOT NULL`, ...(ctx.only ? [among('e.person_id', ctx)] : [])];
  const positive = c.performed !== negate;
  const where = (extra: Bool[]) => sql.join([...base, ...extra], sql` AND `);
  const inWindow = timeFilter(sql`e.timestamp`, c.within, ctx.now);

  if (c.occurrence) {
    // The first (or last) matching event ever must fall in the window.
    const agg = c.occurrence === 'first' ? sql`min(e.timestamp)` : sql`max(e.timestamp)`;
    const having = timeFilter(agg, c.within, ctx.now);
    const expr = sql<boolean>`p.id IN (SELECT e.person_id FROM events e WHERE ${where(someone)}
      GROUP BY e.person_id HAVING ${sql.join(having, sql` AND `)})`;
    return positive ? expr : sql<boolean>`NOT ${expr}`;
  }

  // "performed" is "count >= 1"; turn every count into "count >= n" or its negation.
  let n = 1;
  let atLeast = true;
  let exactly: number | undefined;
  if (c.count) {
    if (c.count.op === 'at_least') n = c.count.value;
    else if (c.count.op === 'at_most') { n = c.count.value + 1; atLeast = false; }
    else exactly = c.count.value;
  }
  if (exactly === 0) { n = 1; atLeast = false; exactly = undefined; }
  const want = positive === atLeast; // true: "IN people with >= n", false: "NOT IN" them
  if (exactly !== undefined) {
    const expr = sql<boolean>`p.id IN (SELECT e.person_id FROM events e WHERE ${where([...someone, ...inWindow])}
      GROUP BY e.person_id HAVING count(*) = ${exactly})`;
    return positive ? expr : sql<boolean>`NOT ${expr}`;
  }
  if (n <= 0) return want ? TRUE : FALSE;
  if (n === 1) {
    if (want) return sql<boolean>`p.id IN (SELECT e.person_id FROM events e WHERE ${where([...someone, ...inWindow])})`;
    return sql<boolean>`NOT EXISTS (SELECT 1 FROM events e WHERE ${where([sql<boolean>`e.person_id = p.id`, ...inWindow])})`;
  }
  const expr = sql<boolean>`p.id IN (SELECT e.person_id FROM events e WHERE ${where([...someone, ...inWindow])}
    GROUP BY e.person_id HAVING count(*) >= ${n})`;
  return want ? expr : sql<boolean>`NOT ${expr}`;
}

function messageLeaf(c: MessageCondition, ctx: CompileContext): Bool {
  const ws = ctx.workspaceId;
  let templateFilter: Bool = TRUE;
  if (c.template !== undefined) {
    const id = ctx.refs.templates.get(c.template);
    if (id === undefined) return FALSE;
    templateFilter = sql<boolean>`m.template_id = ${id}`;
  }
  if (c.activity === 'received') {
    return sql<boolean>`p.id IN (SELECT m.person_id FROM messages m WHERE m.workspace_id = ${ws} AND m.person_id IS NOT NULL
      AND ${among('m.person_id', ctx)} AND m.sent_at IS NOT NULL AND m.status IN ('sent', 'delivered', 'complained') AND ${templateFilter}
      AND ${sql.join([TRUE, ...timeFilter(sql`m.sent_at`, c.within, ctx.now)], sql` AND `)})`;
  }
  return sql<boolean>`p.id IN (SELECT m.person_id FROM message_events me
    JOIN messages m ON m.workspace_id = me.workspace_id AND m.id = me.message_id
    WHERE me.workspace_id = ${ws} AND me.type = ${c.activity} AND m.person_id IS NOT NULL AND ${among('m.person_id', ctx)} AND ${templateFilter}
    AND ${sql.join([TRUE, ...timeFilter(sql`me.at`, c.within, ctx.now)], sql` AND `)})`;
}

// ---- values ----

const COLUMN: Record<(typeof PERSON_FIELDS)[number], string> = {
  email: 'p.email', phone: 'p.phone', id: 'p.external_id', created_at: 'p.created_at', updated_at: 'p.updated_at',
  timezone: 'p.timezone', locale: 'p.locale',
};

/** A person's value as jsonb: a column for the built-in fields, else the attribute at the (dotted) path. */
export function personValue(path: string): RawBuilder<unknown> {
  const col = (COLUMN as Record<string, string>)[path];
  if (col) return sql`to_jsonb(${sql.ref(col)})`;
  return jsonPath(sql`p.attributes`, path);
}

function jsonPath(doc: RawBuilder<unknown>, path: string): RawBuilder<unknown> {
  const parts = path.split('.');
  return parts.length === 1 ? sql`(${doc} -> ${parts[0]}::text)` : sql`(${doc} #> ${parts}::text[])`;
}

const j = (v: unknown) => sql`${JSON.stringify(v)}::jsonb`;

/** A comparison; TRUE or FALSE, never NULL (a missing value is "not equal", "not in", "does not exist"). */
export function valueTest(v: RawBuilder<unknown>, t: ValueTest, ctx: CompileContext): Bool {
  const num = sql`tandem_num(${v})`;
  const ts = sql`tandem_ts(${v})`;
  const isNull = sql<boolean>`(${v} IS NULL OR ${v} = 'null'::jsonb)`;
  const ago = (sign: 1 | -1) => new Date(ctx.now.getTime() + sign * (t.amount ?? 0) * UNIT_MS[t.unit ?? 'days']);
  const f = (b: RawBuilder<unknown>) => sql<boolean>`coalesce(${b}, false)`;
  switch (t.op) {
    case 'equals': return t.value === null || t.value === undefined ? isNull : f(sql`${v} = ${j(t.value)}`);
    case 'not_equals': return t.value === null || t.value === undefined ? sql<boolean>`NOT ${isNull}` : sql<boolean>`${v} IS DISTINCT FROM ${j(t.value)}`;
    case 'contains': return contains(v, t.value);
    case 'not_contains': return sql<boolean>`NOT ${contains(v, t.value)}`;
    case 'starts_with': return f(sql`jsonb_typeof(${v}) = 'string' AND starts_with(${v} #>> '{}', ${String(t.value)}::text)`);
    case 'exists': return sql<boolean>`NOT ${isNull}`;
    case 'not_exists': return isNull;
    case 'gt': return f(sql`${num} > ${Number(t.value)}::numeric`);
    case 'gte': return f(sql`${num} >= ${Number(t.value)}::numeric`);
    case 'lt': return f(sql`${num} < ${Number(t.value)}::numeric`);
    case 'lte': return f(sql`${num} <= ${Number(t.value)}::numeric`);
    case 'between': {
      const [lo, hi] = t.values ?? [];
      if (typeof lo === 'number' && typeof hi === 'number') return f(sql`${num} BETWEEN ${lo}::numeric AND ${hi}::numeric`);
      return during(ts, startOf(String(lo)), endOf(String(hi)));
    }
    case 'in': return oneOf(v, t.values ?? []);
    case 'not_in': return sql<boolean>`NOT ${oneOf(v, t.values ?? [])}`;
    case 'before': return f(sql`${ts} < ${startOf(String(t.value))}::timestamptz`);
    case 'after': return f(sql`${ts} > ${endOf(String(t.value))}::timestamptz`);
    case 'within_last': return during(ts, ago(-1), ctx.now);
    case 'within_next': return during(ts, ctx.now, ago(1));
    case 'more_than_ago': return f(sql`${ts} < ${ago(-1)}::timestamptz`);
  }
}

/**
 * The value (a missing one counting as null) equals one of these scalars, as jsonb equality does
 * (1 = 1.0). `= ANY(array)` rather than building a one-element array per person for `@>`.
 */
function oneOf(v: RawBuilder<unknown>, values: readonly unknown[]): Bool {
  return sql<boolean>`coalesce(coalesce(${v}, 'null'::jsonb) = ANY(${values.map((x) => JSON.stringify(x))}::jsonb[]), false)`;
}

/**
 * from <= t <= to, with t computed once: BETWEEN would expand to two comparisons, each with its own
 * copy of the inlined tandem_ts() and its regular expressions.
 */
function during(t: RawBuilder<unknown>, from: Date, to: Date): Bool {
  if (!(from.getTime() <= to.getTime())) return FALSE; // an empty (or invalid) interval: nobody
  return sql<boolean>`coalesce(tstzrange(${from}::timestamptz, ${to}::timestamptz, '[]') @> ${t}, false)`;
}

function contains(v: RawBuilder<unknown>, value: unknown): Bool {
  const inArray = sql`(jsonb_typeof(${v}) = 'array' AND ${v} @> ${j([value])})`;
  if (typeof value !== 'string') return sql<boolean>`coalesce(${inArray}, false)`;
  return sql<boolean>`coalesce((jsonb_typeof(${v}) = 'string' AND strpos(${v} #>> '{}', ${value}::text) > 0) OR ${inArray}, false)`;
}
