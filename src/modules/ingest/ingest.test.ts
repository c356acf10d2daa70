// The ingest pipeline and the identity rules (docs/identity.md), against a real PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTandem, type TestTandem } from '../../../test/harness.ts';
import type { IncomingEvent } from './index.ts';

const at = new Date('2026-03-01T10:00:00Z');
const ev = (e: Partial<IncomingEvent> & Pick<IncomingEvent, 'type'>): IncomingEvent => ({ timestamp: at, ...e });

describe('ingest pipeline', () => {
  let t: TestTandem;
  let ws: string;
  beforeAll(async () => {
    t = await createTestTandem();
    ws = (await t.workspace()).workspaceId;
  });
  afterAll(async () => { await t.close(); });

  const ingest = (events: IncomingEvent[]) => t.services.ingest.ingest(ws, events, { source: 'api' });
  const person = (userId: string) => t.services.db.selectFrom('person_identifiers')
    .innerJoin('people', (j) => j.onRef('people.id', '=', 'person_identifiers.person_id').onRef('people.workspace_id', '=', 'person_identifiers.workspace_id'))
    .selectAll('people').where('person_identifiers.workspace_id', '=', ws)
    .where('person_identifiers.kind', '=', 'user').where('person_identifiers.value', '=', userId).executeTakeFirst();
  const eventsOf = (personId: string) => t.services.db.selectFrom('events').selectAll()
    .where('workspace_id', '=', ws).where('person_id', '=', personId).orderBy('id').execute();

  it('creates one person per user id and merges identify traits in order', async () => {
    const r = await ingest([
      ev({ type: 'identify', userId: 'u1', traits: { email: 'U1@Example.com', plan: 'free', name: 'Ann' } }),
      ev({ type: 'track', userId: 'u1', name: 'Signed up', properties: { ref: 'ad' } }),
      ev({ type: 'identify', userId: 'u1', traits: { plan: 'pro', name: null } }),
    ]);
    expect(r.outcomes).toEqual(['stored', 'stored', 'stored']);
    const p = await person('u1');
    expect(p?.attributes).toEqual({ email: 'U1@Example.com', plan: 'pro' });
    expect(p?.email).toBe('U1@Example.com');
    expect(p?.external_id).toBe('u1');
    expect(await eventsOf(p!.id)).toHaveLength(3);
  });

  it('stores a repeated message id once, within a batch and across batches', async () => {
    const a = await ingest([ev({ type: 'track', userId: 'u2', name: 'A', messageId: 'm-1' }), ev({ type: 'track', userId: 'u2', name: 'A', messageId: 'm-1' })]);
    const b = await ingest([ev({ type: 'track', userId: 'u2', name: 'A', messageId: 'm-1' })]);
    expect(a.outcomes).toEqual(['stored', 'duplicate']);
    expect(b.outcomes).toEqual(['duplicate']);
    const rows = await t.services.db.selectFrom('events').select('id').where('workspace_id', '=', ws).where('message_id', '=', 'm-1').execute();
    expect(rows).toHaveLength(1);
  });

  it('attributes anonymous events to the person when they identify', async () => {
    await ingest([ev({ type: 'page', anonymousId: 'anon-3', name: 'Pricing' }), ev({ type: 'track', anonymousId: 'anon-3', name: 'Clicked' })]);
    await ingest([ev({ type: 'identify', userId: 'u3', anonymousId: 'anon-3', traits: { email: 'u3@example.com' } })]);
    const p = await person('u3');
    expect((await eventsOf(p!.id)).map((e) => e.type)).toEqual(['page', 'track', 'identify']);
    expect(p?.identified).toBe(true);
    const people = await t.services.db.selectFrom('people').select('id').where('workspace_id', '=', ws).where('email', '=', 'u3@example.com').execute();
    expect(people).toHaveLength(1);
  });

  it('merges an anonymous person into an existing user on identify', async () => {
    await ingest([ev({ type: 'identify', userId: 'u4', traits: { plan: 'pro' } })]);
    await ingest([ev({ type: 'track', anonymousId: 'anon-4', name: 'Visited' })]);
    await ingest([ev({ type: 'track', userId: 'u4', anonymousId: 'anon-4', name: 'Logged in' })]);
    const p = await person('u4');
    expect((await eventsOf(p!.id)).map((e) => e.name)).toEqual([null, 'Visited', 'Logged in']);
    const anon = await t.services.people.find(ws, { anonymousId: 'anon-4' });
    expect(anon).toBe(p!.id);
  });

  it('never moves an anonymous id away from another identified person', async () => {
    await ingest([ev({ type: 'identify', userId: 'u5a', anonymousId: 'shared-device' })]);
    await ingest([ev({ type: 'track', userId: 'u5b', anonymousId: 'shared-device', name: 'X' })]);
    const a = await person('u5a');
    const b = await person('u5b');
    expect(a!.id).not.toBe(b!.id);
    expect(await t.services.people.find(ws, { anonymousId: 'shared-device' })).toBe(a!.id);
    expect((await eventsOf(b!.id)).map((e) => e.name)).toEqual(['X']);
  });

  it('alias merges the previous id\'s person into the user id\'s person, user id winning', async () => {
    await ingest([ev({ type: 'identify', userId: 'old-6', traits: { plan: 'free', city: 'Oslo' } }), ev({ type: 'track', userId: 'old-6', name: 'A' })]);
    await ingest([ev({ type: 'identify', userId: 'new-6', traits: { plan: 'pro' } })]);
    await ingest([ev({ type: 'alias', userId: 'new-6', previousId: 'old-6' })]);
    const p = await person('new-6');
    expect(p?.attributes).toEqual({ plan: 'pro', city: 'Oslo' });
    expect(await person('old-6')).toMatchObject({ id: p!.id });
    expect((await eventsOf(p!.id)).map((e) => e.type).sort()).toEqual(['alias', 'identify', 'identify', 'track']);
  });

  it('identifies email-only people and gives them a user id when one arrives with their email', async () => {
    await ingest([ev({ type: 'identify', email: 'lead@example.com', traits: { email: 'lead@example.com', source: 'import' } })]);
    await ingest([ev({ type: 'identify', userId: 'u7', traits: { email: 'lead@example.com', plan: 'trial' } })]);
    const p = await person('u7');
    expect(p?.attributes).toEqual({ email: 'lead@example.com', source: 'import', plan: 'trial' });
    const all = await t.services.db.selectFrom('people').select('id').where('workspace_id', '=', ws).where('email', '=', 'lead@example.com').execute();
    expect(all).toHaveLength(1);
  });

  it('does not create people on update-only identify', async () => {
    const r = await ingest([ev({ type: 'identify', userId: 'ghost', traits: { a: 1 }, updateOnly: true })]);
    expect(r.outcomes).toEqual(['skipped']);
    expect(await person('ghost')).toBeUndefined();
  });

  it('keeps deleted-and-suppressed people deleted', async () => {
    await ingest([ev({ type: 'identify', userId: 'u8', anonymousId: 'anon-8', traits: { email: 'u8@example.com' } })]);
    expect(await t.services.people.deleteAndSuppress(ws, { userId: 'u8' })).toBe(true);
    const r = await ingest([
      ev({ type: 'identify', userId: 'u8', traits: { email: 'u8@example.com' } }),
      ev({ type: 'track', anonymousId: 'anon-8', name: 'Back' }),
      ev({ type: 'identify', email: 'u8@example.com', traits: {} }),
    ]);
    expect(r.outcomes).toEqual(['suppressed', 'suppressed', 'suppressed']);
    expect(await person('u8')).toBeUndefined();
    await t.services.people.unsuppress(ws, { userId: 'u8' });
    expect((await ingest([ev({ type: 'identify', userId: 'u8' })])).outcomes).toEqual(['stored']);
  });

  it('stores groups and the person\'s relation to them', async () => {
    await ingest([ev({ type: 'group', userId: 'u9', groupId: 'acme', objectType: 'group', traits: { name: 'Acme', seats: 10 } })]);
    const obj = await t.services.db.selectFrom('objects').selectAll().where('workspace_id', '=', ws).where('object_id', '=', 'acme').executeTakeFirst();
    expect(obj?.attributes).toEqual({ name: 'Acme', seats: 10 });
    const p = await person('u9');
    const rel = await t.services.db.selectFrom('object_relationships').selectAll().where('workspace_id', '=', ws).where('person_id', '=', p!.id).execute();
    expect(rel.map((r) => r.object_id)).toEqual(['acme']);
  });

  it('resolves concurrent first sightings of one user id to one person', async () => {
    const batches = Array.from({ length: 8 }, (_, b) => Array.from({ length: 20 }, (_, i) =>
      ev({ type: i % 5 === 0 ? 'identify' : 'track', userId: `race-${i}`, anonymousId: `race-anon-${i}-${b}`, name: 'Tick', traits: { b } }),
    ));
    await Promise.all(batches.map((events) => ingest(events)));
    const rows = await t.services.db.selectFrom('people').select(['external_id']).where('workspace_id', '=', ws)
      .where('external_id', 'like', 'race-%').execute();
    expect(rows).toHaveLength(20);
    const evs = await t.services.db.selectFrom('events').select(['person_id', 'user_id']).where('workspace_id', '=', ws).where('user_id', 'like', 'race-%').execute();
    expect(evs).toHaveLength(160);
    const perUser = new Map<string, Set<string>>();
    for (const e of evs) perUser.set(e.user_id!, (perUser.get(e.user_id!) ?? new Set()).add(e.person_id!));
    for (const s of perUser.values()) expect(s.size).toBe(1);
  });

  it('keeps the invariant the batch lookup relies on: whoever has a user id is identified and has an external id', async () => {
    // Runs after the cases above (identify, alias, merges, email promotion, deletes, races).
    const broken = await t.services.db.selectFrom('person_identifiers as i')
      .innerJoin('people as p', (j) => j.onRef('p.id', '=', 'i.person_id').onRef('p.workspace_id', '=', 'i.workspace_id'))
      .select(['i.value', 'p.external_id', 'p.identified'])
      .where('i.workspace_id', '=', ws).where('i.kind', '=', 'user')
      .where((eb) => eb.or([eb('p.external_id', 'is', null), eb('p.identified', '=', false)]))
      .execute();
    expect(broken).toEqual([]);
  });

  it('keeps workspaces apart', async () => {
    const other = (await t.workspace('other')).workspaceId;
    await t.services.ingest.ingest(other, [ev({ type: 'identify', userId: 'u1', traits: { plan: 'other' } })], { source: 'api' });
    const mine = await person('u1');
    expect(mine?.attributes).toMatchObject({ plan: 'pro' });
    const theirs = await t.services.people.find(other, { userId: 'u1' });
    expect(theirs).toBeDefined();
    expect(theirs).not.toBe(mine!.id);
  });
});
