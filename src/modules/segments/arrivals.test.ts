// People who arrive after a segment is saved, and people who merge: every kind of condition a person can
// match by what they have NOT done or do NOT have, for a person created by ingest (by an unrelated event)
// and by a CSV import; a merge's exits, list moves and re-evaluation; and the drain meeting a segment that
// a build or a tick holds.
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, FakeClock, type TestTandem } from '../../../test/harness.ts';
import { importPeopleCsv } from '../imports/index.ts';

const clock = new FakeClock(new Date('2026-06-15T12:00:00.000Z'));
let t: TestTandem;
let ws: string;

// One segment per kind of negative condition; a person who has nothing and did nothing matches them all.
const NEGATIVE: Record<string, unknown> = {
  'never-purchased': { type: 'event', name: 'Purchased', performed: false },
  'not-pro': { type: 'attribute', path: 'plan', op: 'not_equals', value: 'pro' },
  'not-in-plans': { type: 'attribute', path: 'plan', op: 'not_in', values: ['pro', 'business'] },
  'no-plan': { type: 'attribute', path: 'plan', op: 'not_exists' },
  'not-contains': { type: 'attribute', path: 'tags', op: 'not_contains', value: 'vip' },
  'few-logins': { type: 'event', name: 'login', count: { op: 'at_most', value: 1 } },
  'not-not-subscribed': { type: 'not', condition: { type: 'topic', topic: 'news', state: 'unsubscribed' } },
  'opt-out-default': { type: 'topic', topic: 'news', state: 'subscribed' },
  'no-mail': { type: 'message', activity: 'received', performed: false },
  'no-email': { type: 'reachability', check: 'has_email', negate: true },
  'not-listed': { type: 'segment', segment: 'vip-list', member: false },
  'no-group': { type: 'not', condition: { type: 'group', path: 'tier', op: 'equals', value: 'gold' } },
  'not-in-other': { type: 'segment', segment: 'never-purchased-pro', member: false },
};

async function build(keys: string[]): Promise<void> {
  for (const k of keys) await t.services.segments.rebuild(ws, k);
}

async function storedIn(personId: string): Promise<string[]> {
  return (await t.services.segments.ofPerson(ws, personId)).map((s) => s.key).sort();
}

const dirty = async () => (await sql<{ what: string[] }>`SELECT what FROM segment_dirty WHERE workspace_id = ${ws}`.execute(t.services.db)).rows;

beforeAll(async () => {
  t = await createTestTandem({ clock });
  ws = (await t.workspace()).workspaceId;
  await t.services.consent.createTopic(ws, { key: 'news', name: 'News', default: 'opt_out', channel: 'email' });
  await t.services.segments.create(ws, { key: 'vip-list', name: 'VIPs', kind: 'manual' });
  await t.services.segments.create(ws, { key: 'never-purchased-pro', name: 'x', definition: { type: 'and', conditions: [
    { type: 'event', name: 'Purchased' }, { type: 'attribute', path: 'plan', op: 'equals', value: 'pro' }] } });
  for (const [key, definition] of Object.entries(NEGATIVE)) await t.services.segments.create(ws, { key, name: key, definition });
  await build(['never-purchased-pro', ...Object.keys(NEGATIVE)]);
});
afterAll(async () => t?.close());

describe('a person created after the segments were saved', () => {
  it('joins every segment they match by what they have not done, through an unrelated first event', async () => {
    await t.services.ingest.ingest(ws, [{ type: 'track', userId: 'newcomer', name: 'Visited', properties: {}, timestamp: clock.now() }], { source: 'api' });
    const id = await t.services.peopleQuery.resolveId(ws, 'newcomer', 'userId');
    expect(await dirty()).toEqual([{ what: ['created'] }]);
    await t.services.segments.membership.drain();
    expect(await storedIn(id)).toEqual(Object.keys(NEGATIVE).sort());
    for (const key of Object.keys(NEGATIVE)) {
      const e = await t.services.segments.explain(ws, { segment: key }, id);
      expect([key, e.member, e.stored]).toEqual([key, true, true]);
    }
  });

  it('joins them when a CSV import creates them', async () => {
    const v = await importPeopleCsv(t.services.imports, ws, Readable.from(['id,tags\nimported-1,"x"\n']), { fileName: 'people.csv' });
    expect(v).toMatchObject({ status: 'done', rowsCreated: 1 });
    const id = await t.services.peopleQuery.resolveId(ws, 'imported-1', 'userId');
    await t.services.segments.membership.drain();
    expect(await storedIn(id)).toEqual(Object.keys(NEGATIVE).sort());
  });

  it('an existing person whose user id a track call sets is re-evaluated on attributes', async () => {
    await t.services.segments.create(ws, { key: 'known', name: 'Known', definition: { type: 'attribute', path: 'id', op: 'exists' } });
    await t.services.ingest.ingest(ws, [{ type: 'track', anonymousId: 'anon-1', name: 'Visited', properties: {}, timestamp: clock.now() }], { source: 'api' });
    await build(['known']);
    await t.services.segments.membership.drain();
    const id = await t.services.peopleQuery.resolveId(ws, 'anon-1', 'anonymousId');
    expect(await storedIn(id)).not.toContain('known');
    await t.services.ingest.ingest(ws, [{ type: 'track', userId: 'now-known', anonymousId: 'anon-1', name: 'Visited', properties: {}, timestamp: clock.now() }], { source: 'api' });
    expect(await t.services.peopleQuery.resolveId(ws, 'now-known', 'userId')).toBe(id);
    await t.services.segments.membership.drain();
    expect(await storedIn(id)).toContain('known');
    await t.services.segments.remove(ws, 'known');
  });
});

describe('a merge', () => {
  it('records the merged-away person leaving, moves their lists to the survivor and re-evaluates the survivor', async () => {
    await t.services.ingest.ingest(ws, [
      { type: 'identify', userId: 'keeper', traits: { plan: 'pro' }, timestamp: clock.now() },
      { type: 'track', userId: 'keeper', name: 'Purchased', properties: {}, timestamp: clock.now() },
      { type: 'identify', userId: 'goner', traits: { tags: ['vip'] }, timestamp: clock.now() },
    ], { source: 'api' });
    const keeper = await t.services.peopleQuery.resolveId(ws, 'keeper', 'userId');
    const goner = await t.services.peopleQuery.resolveId(ws, 'goner', 'userId');
    await t.services.segments.editList(ws, 'vip-list', { add: [goner] });
    await t.services.segments.membership.drain();
    const before = await storedIn(goner);
    expect(before).toContain('vip-list');
    expect(await storedIn(keeper)).toContain('never-purchased-pro');

    await t.services.people.merge(ws, { userId: 'keeper' }, { userId: 'goner' });
    const exits = await sql<{ key: string; reason: string }>`SELECT s.key, c.reason FROM segment_changes c JOIN segments s ON s.workspace_id = c.workspace_id AND s.id = c.segment_id
      WHERE c.workspace_id = ${ws} AND c.person_id = ${goner} AND c.change = 'exited' ORDER BY s.key`.execute(t.services.db);
    expect(exits.rows).toEqual(before.map((key) => ({ key, reason: 'merged' })));
    await t.services.segments.membership.drain();
    // The survivor: on goner's list now (so out of "not-listed"), and goner's tags filled its gap.
    const after = await storedIn(keeper);
    expect(after).toContain('vip-list');
    expect(after).not.toContain('not-listed');
    expect(after).not.toContain('not-contains');
    expect(after).toContain('never-purchased-pro');
    for (const key of ['never-purchased-pro', 'not-listed', 'not-contains']) {
      const e = await t.services.segments.explain(ws, { segment: key }, keeper);
      expect([key, e.stored]).toEqual([key, e.member]);
    }
  });
});

describe('a segment held by a build or a tick', () => {
  it('the drain leaves its people for later, scoped to it, and takes them once it is free', async () => {
    await t.services.ingest.ingest(ws, [{ type: 'identify', userId: 'waiter', traits: {}, timestamp: clock.now() }], { source: 'api' });
    await t.services.segments.membership.drain();
    const id = await t.services.peopleQuery.resolveId(ws, 'waiter', 'userId');
    const seg = await t.services.segments.get(ws, 'never-purchased');
    expect(await storedIn(id)).toContain('never-purchased');
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => { locked = r; });
    const holder = t.services.db.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(7710011, hashtext(${`${ws}/${seg.id}`}))`.execute(tx);
      locked();
      await held;
    });
    await isLocked;
    try {
      await t.services.ingest.ingest(ws, [{ type: 'track', userId: 'waiter', name: 'Purchased', properties: {}, timestamp: clock.now() }], { source: 'api' });
      await t.services.segments.membership.drain();
      expect(await storedIn(id)).toContain('never-purchased'); // not yet: the segment is busy
      // Put back for that segment only: the others concerned by the event (never-purchased-pro, not-in-other) were evaluated.
      expect(await dirty()).toEqual([{ what: [`segment:${seg.id}`, 'event:Purchased'] }]);
    } finally {
      release();
      await holder;
    }
    await t.services.segments.membership.drain();
    expect(await storedIn(id)).not.toContain('never-purchased');
    expect(await dirty()).toEqual([]);
    const last = await sql<{ reason: string }>`SELECT reason FROM segment_changes WHERE workspace_id = ${ws} AND segment_id = ${seg.id}
      AND person_id = ${id} ORDER BY id DESC LIMIT 1`.execute(t.services.db);
    expect(last.rows[0]?.reason).toBe('event');
  });
});
