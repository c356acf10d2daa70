// The compiler against a brute-force evaluator: for random people, events and definitions, the SQL
// that PostgreSQL runs and a plain TypeScript reading of docs/segments.md pick the same members.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestTandem, FakeClock, type TestTandem } from '../../../test/harness.ts';
import { sql } from 'kysely';
import { compile } from './compile.ts';
import { UNIT_MS, type Condition, type ValueTest } from './definition.ts';

const clock = new FakeClock(new Date('2026-06-15T12:00:00.000Z'));
const DAY = 86_400_000;
let t: TestTandem;
afterAll(async () => t?.close());
beforeAll(async () => {
  t = await createTestTandem({ clock });
});

type Json = unknown;
interface Person { id: string; attrs: Record<string, Json> }
interface Ev { user: string; name: string; props: Record<string, Json>; at: Date }

// ---- the oracle ----

const NUMERIC = /^-?[0-9]{1,30}(\.[0-9]{1,30})?$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const isNull = (v: Json) => v === undefined || v === null;
const jsonEq = (a: Json, b: Json): boolean => (a === undefined ? false : typeof a === 'number' && typeof b === 'number' ? a === b : a === b);
const num = (v: Json): number | null => (typeof v === 'number' ? v : typeof v === 'string' && NUMERIC.test(v) ? Number(v) : null);
const ts = (v: Json): number | null => (typeof v === 'number' && Math.abs(v) < 1e11 ? v * 1000 : typeof v === 'string' && ISO.test(v) ? Date.parse(v) : null);

function test(v: Json, c: ValueTest, now: number): boolean {
  const n = num(v);
  const d = ts(v);
  const span = (c.amount ?? 0) * UNIT_MS[c.unit ?? 'days'];
  const inList = () => (c.values ?? []).some((x) => (x === null ? isNull(v) : jsonEq(v, x)));
  const contains = () => (typeof v === 'string' && typeof c.value === 'string' ? v.includes(c.value) : Array.isArray(v) && v.some((x) => jsonEq(x, c.value)));
  switch (c.op) {
    case 'equals': return c.value === null ? isNull(v) : jsonEq(v, c.value);
    case 'not_equals': return c.value === null ? !isNull(v) : !jsonEq(v, c.value);
    case 'contains': return contains();
    case 'not_contains': return !contains();
    case 'starts_with': return typeof v === 'string' && v.startsWith(String(c.value));
    case 'exists': return !isNull(v);
    case 'not_exists': return isNull(v);
    case 'gt': return n !== null && n > Number(c.value);
    case 'gte': return n !== null && n >= Number(c.value);
    case 'lt': return n !== null && n < Number(c.value);
    case 'lte': return n !== null && n <= Number(c.value);
    case 'between': return n !== null && n >= Number(c.values![0]) && n <= Number(c.values![1]);
    case 'in': return inList();
    case 'not_in': return !inList();
    case 'within_last': return d !== null && d >= now - span && d <= now;
    case 'within_next': return d !== null && d >= now && d <= now + span;
    case 'more_than_ago': return d !== null && d < now - span;
    case 'before': return d !== null && d < Date.parse(String(c.value));
    case 'after': return d !== null && d > Date.parse(String(c.value));
  }
}

function evaluate(c: Condition, p: Person, events: Ev[], now: number): boolean {
  switch (c.type) {
    case 'and': return c.conditions.every((x) => evaluate(x, p, events, now));
    case 'or': return c.conditions.some((x) => evaluate(x, p, events, now));
    case 'not': return !evaluate(c.condition, p, events, now);
    case 'attribute': return test(p.attrs[c.path], c, now);
    case 'event': {
      const from = c.within && 'last' in c.within ? now - c.within.last * UNIT_MS[c.within.unit] : -Infinity;
      const mine = events.filter((e) => e.user === p.id && e.name === c.name && (c.where ?? []).every((w) => test(e.props[w.path], w, now)));
      let hit: boolean;
      if (c.occurrence) {
        const times = mine.map((e) => e.at.getTime());
        hit = times.length > 0 && (c.occurrence === 'first' ? Math.min(...times) : Math.max(...times)) >= from;
      } else {
        const n = mine.filter((e) => e.at.getTime() >= from).length;
        hit = !c.count ? n >= 1 : c.count.op === 'at_least' ? n >= c.count.value : c.count.op === 'at_most' ? n <= c.count.value : n === c.count.value;
      }
      return c.performed === false ? !hit : hit;
    }
    case 'group': case 'message': case 'reachability': case 'segment': case 'topic':
      throw new Error(`the oracle does not cover ${c.type}`);
  }
}

// ---- generators ----

const now = clock.now().getTime();
const isoNear = fc.integer({ min: -10, max: 10 }).map((d) => new Date(now + d * DAY + 3_600_000).toISOString());
const value = fc.oneof(
  fc.constantFrom('a', 'ab', 'b', 'x', ''), fc.integer({ min: -2, max: 5 }), fc.constantFrom(1.5, '3', '2.5', '-1'),
  fc.boolean(), fc.constant(null), fc.constantFrom(['a'], ['a', 'b'], [1, 2]), isoNear, fc.integer({ min: -10, max: 10 }).map((d) => Math.round((now + d * DAY) / 1000)),
);
const attrs = fc.dictionary(fc.constantFrom('p', 'n', 't', 'd'), value, { maxKeys: 4 });
const scalar = fc.oneof(fc.constantFrom('a', 'ab', 'b', 'x'), fc.integer({ min: -2, max: 5 }), fc.boolean());
const unit = fc.constantFrom('hours' as const, 'days' as const);
const valueTest: fc.Arbitrary<ValueTest> = fc.oneof(
  fc.record({ path: fc.constantFrom('p', 'n', 't', 'd'), op: fc.constantFrom('equals' as const, 'not_equals' as const), value: fc.oneof(scalar, fc.constant(null)) }),
  fc.record({ path: fc.constantFrom('p', 't'), op: fc.constantFrom('contains' as const, 'not_contains' as const, 'starts_with' as const), value: fc.constantFrom('a', 'b', 'x') }),
  fc.record({ path: fc.constantFrom('p', 'n', 't', 'd'), op: fc.constantFrom('exists' as const, 'not_exists' as const) }),
  fc.record({ path: fc.constantFrom('n', 'p'), op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const), value: fc.integer({ min: -2, max: 5 }) }),
  fc.record({ path: fc.constant('n'), op: fc.constant('between' as const), values: fc.tuple(fc.integer({ min: -2, max: 2 }), fc.integer({ min: 2, max: 5 })) }),
  fc.record({ path: fc.constantFrom('p', 'n'), op: fc.constantFrom('in' as const, 'not_in' as const), values: fc.array(fc.oneof(scalar, fc.constant(null)), { minLength: 1, maxLength: 3 }) }),
  fc.record({ path: fc.constant('d'), op: fc.constantFrom('within_last' as const, 'within_next' as const, 'more_than_ago' as const), amount: fc.integer({ min: 1, max: 8 }), unit }),
  fc.record({ path: fc.constant('d'), op: fc.constantFrom('before' as const, 'after' as const), value: isoNear }),
);
const eventCond = fc.record({
  type: fc.constant('event' as const), name: fc.constantFrom('a', 'b'), performed: fc.boolean(),
  where: fc.option(fc.array(valueTest.map((v) => ({ ...v, path: v.path === 'd' ? 'd' : 'k' })), { maxLength: 1 }), { nil: undefined }),
  count: fc.option(fc.record({ op: fc.constantFrom('at_least' as const, 'at_most' as const, 'exactly' as const), value: fc.integer({ min: 0, max: 3 }) }), { nil: undefined }),
  within: fc.option(fc.record({ last: fc.integer({ min: 1, max: 8 }), unit }), { nil: undefined }),
}).map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as unknown as Condition);
const occurrence = fc.record({
  type: fc.constant('event' as const), name: fc.constantFrom('a', 'b'), performed: fc.boolean(),
  occurrence: fc.constantFrom('first' as const, 'last' as const), within: fc.record({ last: fc.integer({ min: 1, max: 8 }), unit }),
}) as fc.Arbitrary<Condition>;
const definition: fc.Arbitrary<Condition> = fc.letrec<{ cond: Condition }>((tie) => ({
  cond: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    valueTest.map((v): Condition => ({ type: 'attribute', ...v })), eventCond, occurrence,
    fc.record({ type: fc.constantFrom('and' as const, 'or' as const), conditions: fc.array(tie('cond'), { maxLength: 3 }) }) as fc.Arbitrary<Condition>,
    fc.record({ type: fc.constant('not' as const), condition: tie('cond') }) as fc.Arbitrary<Condition>),
})).cond;
const eventProps = fc.dictionary(fc.constantFrom('k', 'd'), value, { maxKeys: 2 });
const dataset = fc.record({
  people: fc.array(attrs, { minLength: 1, maxLength: 10 }),
  events: fc.array(fc.record({ who: fc.nat(9), name: fc.constantFrom('a', 'b'), props: eventProps, hoursAgo: fc.integer({ min: -5, max: 240 }) }), { maxLength: 25 }),
  definitions: fc.array(definition, { minLength: 1, maxLength: 6 }),
});

it('the compiled SQL and the brute-force evaluator pick the same members', async () => {
  let round = 0;
  await fc.assert(fc.asyncProperty(dataset, async (d) => {
    const ws = (await t.workspace(`prop ${round++}`)).workspaceId;
    const people: Person[] = d.people.map((a, i) => ({ id: `u${i}`, attrs: a }));
    const events: Ev[] = d.events.filter((e) => e.who < people.length)
      .map((e) => ({ user: `u${e.who}`, name: e.name, props: e.props, at: new Date(now - e.hoursAgo * 3_600_000) }));
    await t.services.ingest.ingest(ws, [
      ...people.map((p) => ({ type: 'identify' as const, userId: p.id, traits: { ...p.attrs, seeded: true }, timestamp: clock.now() })),
      ...events.map((e) => ({ type: 'track' as const, userId: e.user, name: e.name, properties: e.props, timestamp: e.at })),
    ], { source: 'api' });
    // Identify merges traits and treats null as "remove": the stored attributes are the truth.
    for (const p of people) {
      const id = await t.services.peopleQuery.resolveId(ws, p.id, 'userId');
      const row = await t.services.db.selectFrom('people').select('attributes').where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirstOrThrow();
      p.attrs = row.attributes;
    }
    for (const def of d.definitions) {
      const r = await t.services.segments.preview(ws, def, { sample: 100 });
      const got = r.sample.map((p) => p.external_id).sort();
      const want = people.filter((p) => evaluate(def, p, events, now)).map((p) => p.id).sort();
      expect(got, JSON.stringify(def)).toEqual(want);
      // Compiled for some people only (the drain's re-evaluation, sub-queries restricted to them): the same answer for them.
      const some = people.filter((_, i) => i % 2 === 0);
      const ids = await Promise.all(some.map((p) => t.services.peopleQuery.resolveId(ws, p.id, 'userId')));
      const cond = compile(def, { workspaceId: ws, now: clock.now(), refs: { segments: new Map(), topics: new Map(), templates: new Map() }, only: ids });
      const rows = await sql<{ external_id: string }>`SELECT p.external_id FROM people p
        WHERE p.workspace_id = ${ws} AND p.id = ANY(${ids}::uuid[]) AND ${cond}`.execute(t.services.db);
      expect(rows.rows.map((r) => r.external_id).sort(), `only: ${JSON.stringify(def)}`)
        .toEqual(some.filter((p) => evaluate(def, p, events, now)).map((p) => p.id).sort());
    }
  }), { numRuns: Number(process.env.TANDEM_PROPERTY_RUNS ?? 100) }); // the seed: FC_SEED (test/helpers/fc-seed.ts)
}, 240_000);
