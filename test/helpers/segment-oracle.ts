// The brute-force reading of docs/segments.md that the segment property tests hold Tandem to, and the
// generators they share: random attributes, event properties and definitions over a few paths and two
// event names, with "now" fixed (a FakeClock at NOW).
import fc from 'fast-check';
import { UNIT_MS, type Condition, type ValueTest } from '../../src/modules/segments/definition.ts';

export const NOW = new Date('2026-06-15T12:00:00.000Z');
export const DAY = 86_400_000;

type Json = unknown;
/** `id` is the person's user id (the profile field `id` reads); other keys are attributes. */
export interface OraclePerson { id: string; attrs: Record<string, Json> }
export interface OracleEvent { user: string; name: string; props: Record<string, Json>; at: Date }

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

/** Does this person, with these events (anyone's: filtered here), match the condition at `now`? */
export function evaluate(c: Condition, p: OraclePerson, events: OracleEvent[], now: number): boolean {
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

const now = NOW.getTime();
const isoNear = fc.integer({ min: -10, max: 10 }).map((d) => new Date(now + d * DAY + 3_600_000).toISOString());
const value = fc.oneof(
  fc.constantFrom('a', 'ab', 'b', 'x', ''), fc.integer({ min: -2, max: 5 }), fc.constantFrom(1.5, '3', '2.5', '-1'),
  fc.boolean(), fc.constant(null), fc.constantFrom(['a'], ['a', 'b'], [1, 2]), isoNear, fc.integer({ min: -10, max: 10 }).map((d) => Math.round((now + d * DAY) / 1000)),
);
export const attrs = fc.dictionary(fc.constantFrom('p', 'n', 't', 'd'), value, { maxKeys: 4 });
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

/** Random definitions; `extra` adds leaves (the live test adds tests of the user id). */
export function definitions(extra: fc.Arbitrary<Condition>[] = []): fc.Arbitrary<Condition> {
  return fc.letrec<{ cond: Condition }>((tie) => ({
    cond: fc.oneof({ depthSize: 'small', withCrossShrink: true },
      valueTest.map((v): Condition => ({ type: 'attribute', ...v })), eventCond, occurrence, ...extra,
      fc.record({ type: fc.constantFrom('and' as const, 'or' as const), conditions: fc.array(tie('cond'), { maxLength: 3 }) }) as fc.Arbitrary<Condition>,
      fc.record({ type: fc.constant('not' as const), condition: tie('cond') }) as fc.Arbitrary<Condition>),
  })).cond;
}
export const definition = definitions();
export const eventProps = fc.dictionary(fc.constantFrom('k', 'd'), value, { maxKeys: 2 });
