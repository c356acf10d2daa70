// Stored membership, kept in real time by a running worker, against the brute-force evaluator
// (test/helpers/segment-oracle.ts). Random steps: identifies (new people, traits that change, anonymous
// people becoming known), track events by user and anonymous ids, aliases and merges, and segments saved
// before, between and after them. Once the worker has settled (every segment built, no dirty person
// left), each segment's stored members must be exactly the people the oracle picks from the stored facts
// (missing = 0, extra = 0), explain's `stored` must agree with its `member`, and the time tick must have
// had nothing to correct (the clock is frozen, so a tick that changes anything is repairing a miss).
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestTandem, FakeClock, type TestTandem } from '../../../test/harness.ts';
import { FC_SEED } from '../../../test/helpers/fc-seed.ts';
import { attrs, definitions, evaluate, eventProps, NOW, type OracleEvent, type OraclePerson } from '../../../test/helpers/segment-oracle.ts';
import type { IncomingEvent } from '../ingest/index.ts';
import type { Condition } from './definition.ts';

const clock = new FakeClock(NOW);
const now = NOW.getTime();
let t: TestTandem;
beforeAll(async () => {
  // A short "has segments" cache: new segments are built 150 ms after their save rather than 2 s.
  t = await createTestTandem({ clock, worker: true, config: { segmentCacheMs: 150 } });
});
afterAll(async () => t?.close());

// Tests of the user id (the profile's `id`): they change when an anonymous person becomes known.
const userIdTest = fc.oneof(
  fc.record({ type: fc.constant('attribute' as const), path: fc.constant('id'), op: fc.constantFrom('exists' as const, 'not_exists' as const) }),
  fc.record({ type: fc.constant('attribute' as const), path: fc.constant('id'), op: fc.constantFrom('equals' as const, 'not_equals' as const), value: fc.constantFrom('u0', 'u1') }),
) as fc.Arbitrary<Condition>;
const definition = definitions([userIdTest]);

const user = fc.nat(4).map((i) => `u${i}`);
const anon = fc.nat(3).map((i) => `a${i}`);
const who = fc.oneof(
  fc.record({ userId: user }),
  fc.record({ anonymousId: anon }),
  fc.record({ userId: user, anonymousId: anon }),
);
type Step =
  | { kind: 'identify'; who: { userId?: string; anonymousId?: string }; traits: Record<string, unknown> }
  | { kind: 'track'; who: { userId?: string; anonymousId?: string }; name: string; props: Record<string, unknown>; hoursAgo: number }
  | { kind: 'alias'; from: string; to: string }
  | { kind: 'merge'; a: string; b: string }
  | { kind: 'save'; definition: Condition }
  | { kind: 'settle' };
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('identify' as const), who, traits: attrs }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('track' as const), who, name: fc.constantFrom('a', 'b'), props: eventProps, hoursAgo: fc.integer({ min: -5, max: 240 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('alias' as const), from: fc.oneof(user, anon), to: user }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('merge' as const), a: user, b: fc.oneof(user, anon) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('save' as const), definition }) },
  // Wait for the worker to build and drain: later steps then meet built segments, as traffic does.
  { weight: 1, arbitrary: fc.constant({ kind: 'settle' as const }) },
);
// Steps run in rounds; the steps of a round run at once (concurrent calls, as clients make them).
const scenario = fc.record({
  first: definition,
  firstAt: fc.nat(),
  rounds: fc.array(fc.array(step, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 10 }),
});

async function run(ws: string, s: Step, saved: string[]): Promise<void> {
  if (s.kind === 'settle') return settle(ws);
  const ts = clock.now();
  const ingest = (e: IncomingEvent) => t.services.ingest.ingest(ws, [e], { source: 'api' });
  switch (s.kind) {
    case 'identify': await ingest({ type: 'identify', ...s.who, traits: s.traits, timestamp: ts }); return;
    case 'track': await ingest({ type: 'track', ...s.who, name: s.name, properties: s.props, timestamp: new Date(now - s.hoursAgo * 3_600_000) }); return;
    case 'alias': if (s.from !== s.to) await ingest({ type: 'alias', userId: s.to, previousId: s.from, timestamp: ts }); return;
    case 'merge': {
      const ref = (x: string) => (x.startsWith('u') ? { userId: x } : { anonymousId: x });
      // Someone unknown (person.not_found) or a deadlock with a concurrent call: nothing merged, nothing to check.
      await t.services.people.merge(ws, ref(s.a), ref(s.b)).catch((err: { code?: string }) => {
        if (err.code !== 'person.not_found' && err.code !== '40P01') throw err;
      });
      return;
    }
    case 'save': {
      const key = `s${saved.length}`;
      saved.push(key); // before the await: saves in one round run at once
      await t.services.segments.create(ws, { key, name: key, kind: 'dynamic', definition: s.definition });
    }
  }
}

/** Every segment built and no dirty person left (a drain's claimed rows stay visible until it commits). */
async function settle(ws: string): Promise<void> {
  const end = Date.now() + 120_000;
  for (;;) {
    const r = await sql<{ dirty: number; building: number }>`SELECT
      (SELECT count(*) FROM segment_dirty WHERE workspace_id = ${ws})::int AS dirty,
      (SELECT count(*) FROM segments WHERE workspace_id = ${ws} AND status <> 'ready')::int AS building`.execute(t.services.db);
    const row = r.rows[0]!;
    if (row.dirty === 0 && row.building === 0) return;
    if (Date.now() > end) throw new Error(`not settled after 120 s: ${JSON.stringify(row)}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

it('stored membership kept live equals the brute-force evaluation, for people and segments in any order', async () => {
  const totals = { cases: 0, steps: 0, segments: 0, people: 0, checked: 0, missing: 0, extra: 0, explained: 0 };
  let round = 0;
  try {
    await fc.assert(fc.asyncProperty(scenario, async (sc) => {
      const ws = (await t.workspace(`live ${round++}`)).workspaceId;
      const saved: string[] = [];
      const rounds = sc.rounds.map((r) => [...r]);
      // The first segment is saved and built before some of the steps, so that people arrive after it.
      rounds.splice(sc.firstAt % rounds.length, 0, [{ kind: 'save', definition: sc.first }], [{ kind: 'settle' }]);
      for (const r of rounds) await Promise.all(r.map((s) => run(ws, s, saved)));
      await settle(ws);

      // The truth: what is stored about people now (identity resolution and merges are tested elsewhere).
      const people = (await sql<{ id: string; external_id: string | null; attributes: Record<string, unknown> }>`
        SELECT id, external_id, attributes FROM people WHERE workspace_id = ${ws}`.execute(t.services.db)).rows
        .map((p): OraclePerson => ({ id: p.id, attrs: { ...p.attributes, id: p.external_id ?? undefined } }));
      const events = (await sql<{ person_id: string; name: string; properties: Record<string, unknown>; timestamp: Date }>`
        SELECT person_id, name, properties, timestamp FROM events WHERE workspace_id = ${ws} AND type = 'track' AND person_id IS NOT NULL`
        .execute(t.services.db)).rows.map((e): OracleEvent => ({ user: e.person_id, name: e.name, props: e.properties, at: e.timestamp }));
      const segments = (await sql<{ id: string; definition: Condition }>`SELECT id, definition FROM segments WHERE workspace_id = ${ws}`
        .execute(t.services.db)).rows;
      const stored = (await sql<{ segment_id: string; person_id: string }>`SELECT segment_id, person_id FROM segment_members WHERE workspace_id = ${ws}`
        .execute(t.services.db)).rows;

      const faults: string[] = [];
      for (const s of segments) {
        const want = new Set(people.filter((p) => evaluate(s.definition, p, events, now)).map((p) => p.id));
        const got = new Set(stored.filter((m) => m.segment_id === s.id).map((m) => m.person_id));
        const missing = [...want].filter((id) => !got.has(id));
        const extra = [...got].filter((id) => !want.has(id));
        totals.checked += people.length;
        totals.missing += missing.length;
        totals.extra += extra.length;
        if (missing.length + extra.length > 0) faults.push(`${JSON.stringify(s.definition)}: missing ${missing.length}, extra ${extra.length}`);
        // Explain evaluates live; after settling, what is stored says the same.
        for (const p of people.slice(0, 3)) {
          const e = await t.services.segments.explain(ws, { segment: s.id }, p.id);
          totals.explained++;
          if (e.stored !== e.member || e.member !== want.has(p.id)) faults.push(`explain ${p.id} in ${s.id}: member ${e.member}, stored ${e.stored}, oracle ${want.has(p.id)}`);
        }
      }
      // The clock is frozen: a tick that moved anyone was repairing what real time missed.
      const timed = await sql<{ n: number }>`SELECT count(*)::int AS n FROM segment_changes WHERE workspace_id = ${ws} AND reason = 'time'`.execute(t.services.db);
      if (timed.rows[0]!.n > 0) faults.push(`${timed.rows[0]!.n} changes made by the time tick`);
      totals.cases++;
      totals.steps += rounds.flat().length;
      totals.segments += segments.length;
      totals.people += people.length;
      expect(faults, `steps: ${JSON.stringify(rounds)}`).toEqual([]);
    }), { numRuns: Number(process.env.TANDEM_LIVE_RUNS ?? 12), endOnFailure: true }); // a live case takes seconds: no shrinking
  } finally {
    console.log(`live segments (FC_SEED=${FC_SEED}): ${totals.cases} cases, ${totals.steps} steps, ${totals.segments} segments, ${totals.people} people, `
      + `${totals.checked} memberships checked: missing ${totals.missing}, extra ${totals.extra}; ${totals.explained} explains`);
  }
  expect(totals).toMatchObject({ missing: 0, extra: 0 });
}, 300_000);
