// The event catalog against a real PostgreSQL: recorded by the ingest pipeline, read over the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, FakeClock, type TestTandem } from '../../../test/harness.ts';
import type { IncomingEvent, StoredEvent } from '../ingest/index.ts';
import { createCatalogService } from './index.ts';
import { REFRESH_MS } from './recorder.ts';

interface TypeView {
  type: string; name: string; firstSeen: string; lastSeen: string; count24h: number; count7d: number;
  sample: Record<string, unknown>;
  properties: Array<{ path: string; type: string; seenTypes: string[]; firstSeen: string; lastSeen: string }>;
  typeChanges: Array<{ path: string; from: string; to: string; changedAt: string }>;
}

const T0 = new Date('2026-03-01T10:00:00.000Z');

describe('event catalog', () => {
  let t: TestTandem;
  let clock: FakeClock;
  beforeAll(async () => {
    clock = new FakeClock(T0);
    t = await createTestTandem({ clock });
  });
  afterAll(async () => { await t.close(); });

  const ingest = (ws: string, events: Array<Partial<IncomingEvent> & Pick<IncomingEvent, 'type'>>) =>
    t.services.ingest.ingest(ws, events.map((e) => ({ userId: 'u1', timestamp: clock.now(), ...e })), { source: 'api' });

  async function types(key: string, query = ''): Promise<TypeView[]> {
    const res = await t.app.inject({ method: 'GET', url: `/api/event-types${query}`, headers: { authorization: bearer(key) } });
    expect(res.statusCode).toBe(200);
    return res.json<{ eventTypes: TypeView[] }>().eventTypes;
  }

  async function one(key: string, type: string, name: string): Promise<TypeView> {
    const res = await t.app.inject({
      method: 'GET', url: `/api/event-types/${type}/${encodeURIComponent(name)}`, headers: { authorization: bearer(key) },
    });
    expect(res.statusCode).toBe(200);
    return res.json<TypeView>();
  }

  const changeRows = (ws: string) => t.services.db.selectFrom('event_type_changes').selectAll()
    .where('workspace_id', '=', ws).orderBy('id').execute();

  it('catalogues every event type with typed, flattened properties', async () => {
    const ws = await t.workspace();
    await ingest(ws.workspaceId, [
      { type: 'track', name: 'Order Completed', properties: {
        total: 42.5, coupon: null, paid: true, items: [{ sku: 'a' }], at: '2026-03-01T09:59:00Z', shipping: { city: 'Oslo', geo: { lat: 59.9 } },
      } },
      { type: 'identify', traits: { email: 'ann@example.com', plan: 'pro' } },
      { type: 'page', properties: { path: '/pricing' } },
      { type: 'screen', name: 'Home', properties: {} },
    ]);
    const list = await types(ws.appApiKey);
    expect(list.map((e) => [e.type, e.name])).toEqual([
      ['identify', 'identify'], ['page', '(unnamed)'], ['screen', 'Home'], ['track', 'Order Completed'],
    ]);
    const order = list.find((e) => e.name === 'Order Completed')!;
    expect(Object.fromEntries(order.properties.map((p) => [p.path, p.type]))).toEqual({
      total: 'number', coupon: 'null', paid: 'boolean', items: 'array', at: 'datetime',
      shipping: 'object', 'shipping.city': 'string', 'shipping.geo': 'object', 'shipping.geo.lat': 'number',
    });
    expect(order.firstSeen).toBe(T0.toISOString());
    expect(order.sample).toMatchObject({ total: 42.5, shipping: { city: 'Oslo' } });
    const identify = list.find((e) => e.type === 'identify')!;
    expect(identify.properties.map((p) => p.path)).toEqual(['email', 'plan']);
    expect(identify.count24h).toBe(1);
    expect(list.find((e) => e.type === 'page')!.count7d).toBe(1);
  });

  it('records a type change once, not on every batch, and keeps last_seen to the minute', async () => {
    const ws = await newWorkspace();
    clock.set(T0);
    await ingest(ws, [{ type: 'track', name: 'Paid', properties: { amount: 10, note: 'x' } }]);
    clock.advance(1_000);
    await ingest(ws, [{ type: 'track', name: 'Paid', properties: { amount: '10' } }]);
    clock.advance(1_000);
    await ingest(ws, [{ type: 'track', name: 'Paid', properties: { note: null } }]);
    for (let i = 0; i < 5; i++) {
      clock.advance(1_000);
      await ingest(ws, [{ type: 'track', name: 'Paid', properties: { amount: String(i), note: i % 2 ? null : 'y' } }]);
    }
    const changes = await changeRows(ws);
    expect(changes.map((c) => [c.path, c.from_type, c.to_type])).toEqual([['amount', 'number', 'string']]);
    let paid = (await types(keyOf(ws), '?type=track&name=Paid'))[0]!;
    const amount = paid.properties.find((p) => p.path === 'amount')!;
    expect(amount.type).toBe('string');
    expect(amount.seenTypes).toEqual(['number', 'string']);
    // A null after a string is not a change; it joins the seen types.
    const note = paid.properties.find((p) => p.path === 'note')!;
    expect([note.type, note.seenTypes]).toEqual(['string', ['null', 'string']]);
    expect(paid.typeChanges).toEqual([{ path: 'amount', from: 'number', to: 'string', changedAt: new Date(T0.getTime() + 1_000).toISOString() }]);
    // The batches without anything new wrote nothing: last_seen is still that of the last write
    // (the batch that first brought a null note).
    expect(paid.lastSeen).toBe(new Date(T0.getTime() + 2_000).toISOString());

    // A minute later the next batch refreshes last_seen (type and properties) and the sample.
    clock.advance(60_000);
    await ingest(ws, [{ type: 'track', name: 'Paid', properties: { amount: '99' } }]);
    paid = (await types(keyOf(ws), '?type=track&name=Paid'))[0]!;
    expect(paid.lastSeen).toBe(clock.now().toISOString());
    expect(paid.properties.find((p) => p.path === 'amount')!.lastSeen).toBe(clock.now().toISOString());
    expect(paid.sample).toEqual({ amount: '99' });
    expect(await changeRows(ws)).toHaveLength(1);
  });

  it('gives a property of mixed types the type most events have, changing only when the mix tips', async () => {
    const ws = await newWorkspace();
    const when = (at: string) => ({ type: 'track' as const, name: 'Mixed', properties: { at } });
    const iso = '2026-03-01T09:00:00Z';
    clock.set(T0);
    await ingest(ws, [when(iso)]);
    clock.advance(1_000);
    await ingest(ws, [when(iso), when(''), when(iso), when(iso)]);
    let at = (await one(keyOf(ws), 'track', 'Mixed')).properties[0]!;
    expect([at.type, at.seenTypes]).toEqual(['datetime', ['datetime', 'string']]);
    expect(await changeRows(ws)).toEqual([]);

    clock.advance(REFRESH_MS);
    await ingest(ws, [when(''), when(iso), when(''), when('')]);
    at = (await one(keyOf(ws), 'track', 'Mixed')).properties[0]!;
    expect(at.type).toBe('string');
    expect((await changeRows(ws)).map((c) => [c.from_type, c.to_type])).toEqual([['datetime', 'string']]);
    clock.advance(1_000);
    await ingest(ws, [when(iso), when(iso)]);
    expect(await changeRows(ws)).toHaveLength(1);
  });

  it('detects a change against the stored type after a restart, and when another process wrote first', async () => {
    const ws = await newWorkspace();
    await ingest(ws, [{ type: 'track', name: 'Seen', properties: { n: 1 } }]);
    // Another process (its own cache) sees n as a string.
    const other = createCatalogService({ db: t.services.db, clock, log: t.services.log });
    await t.services.db.transaction().execute((tx) => other.onEventsStored(tx, ws, [stored(ws, 'Seen', { n: 'one' })]));
    expect((await changeRows(ws)).map((c) => [c.from_type, c.to_type])).toEqual([['number', 'string']]);
    // This process still caches "number"; a number is not new to it, so it writes nothing...
    await ingest(ws, [{ type: 'track', name: 'Seen', properties: { n: 2 } }]);
    expect(await changeRows(ws)).toHaveLength(1);
    // ...and after a restart (empty cache) the stored type is the reference: string -> number.
    t.services.catalog.resetCache();
    await ingest(ws, [{ type: 'track', name: 'Seen', properties: { n: 3 } }]);
    expect((await changeRows(ws)).map((c) => [c.from_type, c.to_type])).toEqual([['number', 'string'], ['string', 'number']]);
    await ingest(ws, [{ type: 'track', name: 'Seen', properties: { n: 4 } }]);
    expect(await changeRows(ws)).toHaveLength(2);
  });

  it('records one change when two processes see a new type at the same time', async () => {
    const ws = await newWorkspace();
    await ingest(ws, [{ type: 'track', name: 'Race', properties: { v: 1, w: 1 } }]);
    const a = createCatalogService({ db: t.services.db, clock, log: t.services.log });
    const b = createCatalogService({ db: t.services.db, clock, log: t.services.log });
    await Promise.all([
      t.services.db.transaction().execute((tx) => a.onEventsStored(tx, ws, [stored(ws, 'Race', { v: 'x', w: true }), stored(ws, 'Other', { z: 1 })])),
      t.services.db.transaction().execute((tx) => b.onEventsStored(tx, ws, [stored(ws, 'Other', { z: 2 }), stored(ws, 'Race', { v: 'y', w: true })])),
    ]);
    const changes = await changeRows(ws);
    expect(changes.map((c) => [c.path, c.from_type, c.to_type]).sort()).toEqual([['v', 'number', 'string'], ['w', 'number', 'boolean']]);
  });

  it('does not trust its cache for a write that rolled back', async () => {
    const ws = await newWorkspace();
    await expect(t.services.db.transaction().execute(async (tx) => {
      await t.services.catalog.onEventsStored(tx, ws, [stored(ws, 'Lost', { a: 1 })]);
      throw new Error('rollback');
    })).rejects.toThrow('rollback');
    await ingest(ws, [{ type: 'track', name: 'Lost', properties: { a: 1 } }]);
    const lost = await one(keyOf(ws), 'track', 'Lost');
    expect(lost.properties.map((p) => [p.path, p.type])).toEqual([['a', 'number']]);
  });

  it('counts volume over 24 hours and 7 days as of the clock', async () => {
    const ws = await newWorkspace();
    const at = async (hoursAgo: number, events: Array<Partial<IncomingEvent> & Pick<IncomingEvent, 'type'>>) => {
      clock.set(new Date(T0.getTime() - hoursAgo * 3_600_000));
      await ingest(ws, events);
    };
    await at(24 * 9, [{ type: 'track', name: 'Login' }]);
    await at(24 * 6, [{ type: 'track', name: 'Login' }, { type: 'identify', traits: { a: 1 } }]);
    await at(30, [{ type: 'track', name: 'Login' }, { type: 'page' }]);
    await at(2, [{ type: 'track', name: 'Login' }, { type: 'track', name: 'Login' }, { type: 'identify' }, { type: 'page', name: '' }]);
    await at(0, [{ type: 'track', name: 'Logout' }]);
    clock.set(T0);
    const list = await types(keyOf(ws));
    const counts = Object.fromEntries(list.map((e) => [`${e.type}/${e.name}`, [e.count24h, e.count7d]]));
    expect(counts).toEqual({
      'identify/identify': [1, 2], 'page/(unnamed)': [1, 2], 'track/Login': [2, 4], 'track/Logout': [1, 1],
    });
    // A day later the same rows count differently: counts use the clock, not the database's now().
    clock.advance(86_400_000);
    const later = await one(keyOf(ws), 'track', 'Login');
    expect([later.count24h, later.count7d]).toEqual([0, 3]);
    clock.set(T0);
  });

  it('keeps workspaces apart', async () => {
    const a = await t.workspace('A');
    const b = await t.workspace('B');
    await ingest(a.workspaceId, [{ type: 'track', name: 'Secret A', properties: { x: 1 } }]);
    await ingest(b.workspaceId, [{ type: 'track', name: 'Public B', properties: { y: 1 } }]);
    expect((await types(b.appApiKey)).map((e) => e.name)).toEqual(['Public B']);
    expect((await types(a.appApiKey)).map((e) => e.name)).toEqual(['Secret A']);
    const cross = await t.app.inject({
      method: 'GET', url: `/api/event-types/track/${encodeURIComponent('Secret A')}`, headers: { authorization: bearer(b.appApiKey) },
    });
    expect(cross.statusCode).toBe(404);
    expect(cross.json()).toMatchObject({ error: { code: 'event_type.not_found' } });
  });

  it('answers one event type by path, and rejects bad input with 4xx', async () => {
    const ws = await t.workspace();
    await ingest(ws.workspaceId, [{ type: 'track', name: 'Viewed a/b', properties: { k: 'v' } }]);
    expect((await one(ws.appApiKey, 'track', 'Viewed a/b')).properties.map((p) => p.path)).toEqual(['k']);
    const badType = await t.app.inject({ method: 'GET', url: '/api/event-types/bogus/x', headers: { authorization: bearer(ws.appApiKey) } });
    expect(badType.statusCode).toBe(400);
    expect(badType.json()).toMatchObject({ error: { code: 'request.invalid', field: 'params.type' } });
    const badQuery = await t.app.inject({ method: 'GET', url: '/api/event-types?type=nope', headers: { authorization: bearer(ws.appApiKey) } });
    expect(badQuery.statusCode).toBe(400);
    for (const url of ['/api/event-types?name=a%00b', '/api/event-types/track/a%00b']) {
      const nul = await t.app.inject({ method: 'GET', url, headers: { authorization: bearer(ws.appApiKey) } });
      expect(nul.statusCode).toBe(400);
      expect(nul.json()).toMatchObject({ error: { code: 'request.invalid' } });
    }
    const noKey = await t.app.inject({ method: 'GET', url: '/api/event-types' });
    expect(noKey.statusCode).toBe(401);
    expect(noKey.json()).toMatchObject({ error: { code: 'auth.missing' } });
  });

  it('appears in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/event-types', '/api/event-types/{type}/{name}', '/api/events/stream']));
  });

  /** The app key of a workspace made by newWorkspace(). */
  const keys = new Map<string, string>();
  const keyOf = (ws: string) => keys.get(ws)!;
  async function newWorkspace(): Promise<string> {
    const w = await t.workspace();
    keys.set(w.workspaceId, w.appApiKey);
    return w.workspaceId;
  }

  function stored(ws: string, name: string, properties: Record<string, unknown>): StoredEvent {
    return {
      id: '0', workspaceId: ws, personId: null, type: 'track', name, properties, context: {}, userId: 'u1', anonymousId: null,
      messageId: null, source: 'api', timestamp: clock.now(), receivedAt: clock.now(),
    };
  }
});
