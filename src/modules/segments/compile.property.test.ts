// The compiler against a brute-force evaluator: for random people, events and definitions, the SQL
// that PostgreSQL runs and a plain TypeScript reading of docs/segments.md (test/helpers/segment-oracle.ts)
// pick the same members. live.property.test.ts holds stored membership, kept in real time, to the same reading.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestTandem, FakeClock, type TestTandem } from '../../../test/harness.ts';
import { sql } from 'kysely';
import { attrs, definition, evaluate, eventProps, NOW, type OracleEvent, type OraclePerson } from '../../../test/helpers/segment-oracle.ts';
import { compile } from './compile.ts';

const clock = new FakeClock(NOW);
let t: TestTandem;
afterAll(async () => t?.close());
beforeAll(async () => {
  t = await createTestTandem({ clock });
});

type Person = OraclePerson;
type Ev = OracleEvent;
const now = NOW.getTime();

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
