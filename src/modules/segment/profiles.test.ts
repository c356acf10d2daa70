// Segment calls end to end through ingest: timestamps, dedupe, profiles, aliases, groups, isolation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestTandem, FakeClock, type TestTandem } from '../../../test/harness.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';

describe('Segment calls land on the right people', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  const clock = new FakeClock(new Date('2026-03-01T10:00:00.000Z'));
  beforeAll(async () => {
    t = await createTestTandem({ clock });
    ws = await t.workspace('Profiles');
  });
  afterAll(async () => { await t.close(); });

  const post = (url: string, body: unknown, key = ws.writeKey) =>
    t.app.inject({ method: 'POST', url, headers: { authorization: basic(key) }, payload: body as Record<string, unknown> });

  async function personOf(workspaceId: string, userId: string) {
    return t.services.db.selectFrom('person_identifiers').innerJoin('people', (j) => j
      .onRef('people.workspace_id', '=', 'person_identifiers.workspace_id').onRef('people.id', '=', 'person_identifiers.person_id'))
      .select(['people.id', 'people.email', 'people.attributes', 'people.external_id'])
      .where('person_identifiers.workspace_id', '=', workspaceId).where('person_identifiers.kind', '=', 'user')
      .where('person_identifiers.value', '=', userId).executeTakeFirst();
  }

  const events = (workspaceId: string) => t.services.db.selectFrom('events').selectAll()
    .where('workspace_id', '=', workspaceId).orderBy('id').execute();

  it('corrects the client clock skew: timestamp = receivedAt - (sentAt - timestamp)', async () => {
    // The device clock runs 2 hours fast; the event happened 30 s before it was sent.
    const res = await post('/v1/track', {
      userId: 'skew', event: 'Skewed', messageId: 'skew-1',
      timestamp: '2026-03-01T11:59:30.000Z', sentAt: '2026-03-01T12:00:00.000Z',
    });
    expect(res.statusCode).toBe(200);
    const batch = await post('/v1/batch', {
      sentAt: '2026-03-01T12:00:00.000Z',
      batch: [
        { type: 'track', userId: 'skew', event: 'Batched', messageId: 'skew-2', originalTimestamp: '2026-03-01T11:00:00.000Z' },
        { type: 'track', userId: 'skew', event: 'NoTime', messageId: 'skew-3' },
      ],
    });
    expect(batch.statusCode).toBe(200);
    const noSent = await post('/v1/track', { userId: 'skew', event: 'Plain', messageId: 'skew-4', timestamp: '2025-12-24T18:00:00+01:00' });
    expect(noSent.statusCode).toBe(200);
    const rows = (await events(ws.workspaceId)).filter((r) => r.message_id?.startsWith('skew-'));
    expect(rows.map((r) => [r.message_id, r.timestamp.toISOString()])).toEqual([
      ['skew-1', '2026-03-01T09:59:30.000Z'],
      ['skew-2', '2026-03-01T09:00:00.000Z'],
      ['skew-3', '2026-03-01T10:00:00.000Z'],
      ['skew-4', '2025-12-24T17:00:00.000Z'],
    ]);
    expect(rows.every((r) => r.received_at.toISOString() === '2026-03-01T10:00:00.000Z')).toBe(true);
  });

  it('stores a messageId once, across requests and inside one batch', async () => {
    const body = { userId: 'dup', event: 'Once', messageId: 'dup-1' };
    expect((await post('/v1/track', body)).statusCode).toBe(200);
    expect((await post('/v1/track', body)).statusCode).toBe(200);
    expect((await post('/v1/batch', { batch: [{ type: 'track', ...body }, { type: 'track', ...body, messageId: 'dup-2' },
      { type: 'track', ...body, messageId: 'dup-2' }] })).statusCode).toBe(200);
    const rows = (await events(ws.workspaceId)).filter((r) => r.message_id?.startsWith('dup-'));
    expect(rows.map((r) => r.message_id)).toEqual(['dup-1', 'dup-2']);
  });

  it('merges identify traits into the person, and keeps track context.traits off the profile', async () => {
    await post('/v1/identify', { userId: 'ada', traits: { email: 'ada@example.com', plan: 'pro', seats: 3 } });
    await post('/v1/identify', { userId: 'ada', traits: { seats: 5, plan: null } });
    await post('/v1/track', { userId: 'ada', event: 'Viewed', context: { traits: { plan: 'enterprise' } } });
    const p = await personOf(ws.workspaceId, 'ada');
    expect(p?.email).toBe('ada@example.com');
    expect(p?.attributes).toMatchObject({ seats: 5 });
    expect(p?.attributes).not.toHaveProperty('plan');
    const tracked = (await events(ws.workspaceId)).find((r) => r.name === 'Viewed');
    expect(tracked?.context).toMatchObject({ traits: { plan: 'enterprise' } });
  });

  it('gives earlier anonymous events to the person once identify links the ids', async () => {
    await post('/v1/page', { anonymousId: 'anon-7', name: 'Pricing', messageId: 'anon-7-page' });
    await post('/v1/track', { anonymousId: 'anon-7', event: 'Clicked', messageId: 'anon-7-click' });
    await post('/v1/identify', { userId: 'grace', anonymousId: 'anon-7', traits: { name: 'Grace' }, messageId: 'anon-7-id' });
    const p = await personOf(ws.workspaceId, 'grace');
    expect(p).toBeDefined();
    const rows = (await events(ws.workspaceId)).filter((r) => r.message_id?.startsWith('anon-7-'));
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.person_id === p?.id)).toBe(true);
    const people = await t.services.db.selectFrom('person_identifiers').select('person_id')
      .where('workspace_id', '=', ws.workspaceId).where('value', 'in', ['anon-7', 'grace']).execute();
    expect(new Set(people.map((r) => r.person_id)).size).toBe(1);
  });

  it('alias merges previousId\'s person into userId\'s', async () => {
    await post('/v1/identify', { userId: 'old-id', traits: { a: 1 }, messageId: 'alias-1' });
    await post('/v1/track', { userId: 'old-id', event: 'Before', messageId: 'alias-2' });
    await post('/v1/identify', { userId: 'new-id', traits: { b: 2 }, messageId: 'alias-3' });
    const res = await post('/v1/alias', { userId: 'new-id', previousId: 'old-id', messageId: 'alias-4' });
    expect(res.statusCode).toBe(200);
    const p = await personOf(ws.workspaceId, 'new-id');
    expect((await personOf(ws.workspaceId, 'old-id'))?.id).toBe(p?.id);
    expect(p?.attributes).toMatchObject({ a: 1, b: 2 });
    const rows = (await events(ws.workspaceId)).filter((r) => r.message_id?.startsWith('alias-'));
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.person_id === p?.id)).toBe(true);
  });

  it('group stores the object and the person\'s relationship to it', async () => {
    const res = await post('/v1/group', { userId: 'lin', groupId: 77, traits: { name: 'Acme', employees: 40 } });
    expect(res.statusCode).toBe(200);
    const obj = await t.services.db.selectFrom('objects').selectAll()
      .where('workspace_id', '=', ws.workspaceId).where('object_type', '=', 'group').where('object_id', '=', '77').executeTakeFirst();
    expect(obj?.attributes).toMatchObject({ name: 'Acme', employees: 40 });
    const p = await personOf(ws.workspaceId, 'lin');
    const rel = await t.services.db.selectFrom('object_relationships').selectAll()
      .where('workspace_id', '=', ws.workspaceId).where('object_id', '=', '77').execute();
    expect(rel.map((r) => r.person_id)).toEqual([p?.id]);
  });

  it('keeps workspaces sealed: a write key writes only its own workspace', async () => {
    const other = await t.workspace('Other');
    await post('/v1/identify', { userId: 'shared-id', traits: { owner: 'A' }, messageId: 'iso-1' });
    await post('/v1/identify', { userId: 'shared-id', traits: { owner: 'B' }, messageId: 'iso-1' }, other.writeKey);
    expect((await personOf(ws.workspaceId, 'shared-id'))?.attributes).toMatchObject({ owner: 'A' });
    expect((await personOf(other.workspaceId, 'shared-id'))?.attributes).toMatchObject({ owner: 'B' });
    const otherRows = await events(other.workspaceId);
    expect(otherRows.map((r) => r.message_id)).toEqual(['iso-1']);
    // The same messageId in another workspace is not a duplicate of this one's.
    expect((await events(ws.workspaceId)).filter((r) => r.message_id === 'iso-1')).toHaveLength(1);
  });
});
