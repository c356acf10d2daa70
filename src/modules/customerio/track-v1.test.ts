// Customer.io Track API v1 in-process against a real PostgreSQL: status codes, bodies, and what is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';

/** Matches any string / number (typed, so the assertions stay type-checked). */
const anyText = expect.any(String) as string;

describe('Customer.io Track API v1', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  beforeAll(async () => {
    t = await createTestTandem();
    ws = await t.workspace('cio v1');
  });
  afterAll(async () => { await t.close(); });

  const call = (method: 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown, w: CreatedWorkspace = ws) => t.app.inject({
    method, url, headers: { authorization: basic(w.siteId, w.trackApiKey) },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  const db = () => t.services.db;
  const personByUser = (userId: string, w: CreatedWorkspace = ws) => db().selectFrom('person_identifiers as i')
    .innerJoin('people as p', (j) => j.onRef('p.id', '=', 'i.person_id').onRef('p.workspace_id', '=', 'i.workspace_id'))
    .selectAll('p').where('i.workspace_id', '=', w.workspaceId).where('i.kind', '=', 'user').where('i.value', '=', userId)
    .executeTakeFirst();
  const peopleByEmail = (email: string) => db().selectFrom('people').selectAll()
    .where('workspace_id', '=', ws.workspaceId).where('email', '=', email).execute();
  const eventsOf = (personId: string) => db().selectFrom('events').selectAll()
    .where('workspace_id', '=', ws.workspaceId).where('person_id', '=', personId).orderBy('id').execute();

  it('adds and updates a person; "" and null remove attributes', async () => {
    const res = await call('PUT', '/api/v1/customers/u1', { email: 'u1@example.com', created_at: 1361205308, plan: 'basic', city: 'Oslo', team: 'a' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    const again = await call('PUT', '/api/v1/customers/u1', { plan: 'premium', city: '', team: null });
    expect(again.statusCode).toBe(200);
    const p = await personByUser('u1');
    expect(p?.external_id).toBe('u1');
    expect(p?.email).toBe('u1@example.com');
    expect(p?.attributes).toEqual({ email: 'u1@example.com', created_at: 1361205308, plan: 'premium' });
  });

  it('answers bad credentials with 401 in Customer.io\'s error shape', async () => {
    const other = await t.workspace('other');
    const cases = [
      basic('site_wrong', ws.trackApiKey), // right key, wrong site id
      basic(ws.siteId, 'tdm_tk_wrong'), // right site id, wrong key
      basic(other.siteId, ws.trackApiKey), // another workspace's site id with this key
      basic(ws.siteId, ws.appApiKey), // an app key is not a track key
    ];
    for (const authorization of cases) {
      const res = await t.app.inject({ method: 'PUT', url: '/api/v1/customers/nobody', headers: { authorization }, payload: { a: 1 } });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ meta: { error: anyText }, code: 'auth.invalid', field: 'authorization' });
    }
    const none = await t.app.inject({ method: 'PUT', url: '/api/v1/customers/nobody', payload: { a: 1 } });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ code: 'auth.missing' });
    expect(await personByUser('nobody')).toBeUndefined();
  });

  it('accepts an email as the identifier and gives that person an id later', async () => {
    expect((await call('PUT', '/api/v1/customers/ann@example.com', { plan: 'free' })).statusCode).toBe(200);
    let rows = await peopleByEmail('ann@example.com');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.external_id).toBeNull();
    expect(rows[0]?.attributes).toMatchObject({ plan: 'free', email: 'ann@example.com' });
    expect((await call('POST', '/api/v1/customers/ann%40example.com/events', { name: 'opened_app' })).statusCode).toBe(200);
    expect((await call('PUT', '/api/v1/customers/ann@example.com', { id: 'ann-1', plan: 'pro' })).statusCode).toBe(200);
    rows = await peopleByEmail('ann@example.com');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.external_id).toBe('ann-1');
    expect(rows[0]?.attributes).toMatchObject({ plan: 'pro' });
    expect((await eventsOf(rows[0]!.id)).map((e) => e.name)).toContain('opened_app');
  });

  it('_update: true updates an existing person and never creates one', async () => {
    expect((await call('PUT', '/api/v1/customers/ghost', { _update: true, plan: 'x' })).statusCode).toBe(200);
    expect(await personByUser('ghost')).toBeUndefined();
    await call('PUT', '/api/v1/customers/real', { plan: 'a' });
    expect((await call('PUT', '/api/v1/customers/real', { _update: true, plan: 'b' })).statusCode).toBe(200);
    expect((await personByUser('real'))?.attributes).toEqual({ plan: 'b' });
  });

  it('names a person by cio_<Tandem id>; an unknown cio_id changes nothing', async () => {
    await call('PUT', '/api/v1/customers/cio-user', { plan: 'a' });
    const p = await personByUser('cio-user');
    expect((await call('PUT', `/api/v1/customers/cio_${p!.id}`, { plan: 'b' })).statusCode).toBe(200);
    expect((await call('POST', `/api/v1/customers/cio_${p!.id}/events`, { name: 'via_cio' })).statusCode).toBe(200);
    expect((await personByUser('cio-user'))?.attributes).toEqual({ plan: 'b' });
    expect((await eventsOf(p!.id)).map((e) => e.name)).toContain('via_cio');
    const before = await db().selectFrom('people').select('id').where('workspace_id', '=', ws.workspaceId).execute();
    for (const id of ['cio_00000000-0000-4000-8000-000000000000', 'cio_notauuid']) {
      expect((await call('PUT', `/api/v1/customers/${id}`, { plan: 'z' })).statusCode).toBe(200);
    }
    const after = await db().selectFrom('people').select('id').where('workspace_id', '=', ws.workspaceId).execute();
    expect(after).toHaveLength(before.length);
  });

  it('tracks events, page and screen views with their timestamps and data', async () => {
    await call('PUT', '/api/v1/customers/ev1', {});
    expect((await call('POST', '/api/v1/customers/ev1/events', { name: 'purchase', data: { price: 23.45 }, timestamp: 1700000000 })).statusCode).toBe(200);
    expect((await call('POST', '/api/v1/customers/ev1/events', { name: '/pricing', type: 'page' })).statusCode).toBe(200);
    expect((await call('POST', '/api/v1/customers/ev1/events', { name: 'Home', type: 'screen', data: { tab: 1 } })).statusCode).toBe(200);
    const p = await personByUser('ev1');
    const evs = (await eventsOf(p!.id)).filter((e) => e.type !== 'identify');
    expect(evs.map((e) => [e.type, e.name, e.source])).toEqual([
      ['track', 'purchase', 'customerio'], ['page', '/pricing', 'customerio'], ['screen', 'Home', 'customerio'],
    ]);
    expect(evs[0]?.properties).toEqual({ price: 23.45 });
    expect(evs[0]?.timestamp.toISOString()).toBe('2023-11-14T22:13:20.000Z');
  });

  it('stores an event id once (dedupe)', async () => {
    const body = { name: 'signup', id: '01HQ7Z3Y8ZP6V4K9D2S1X0ABCD' };
    expect((await call('POST', '/api/v1/customers/dd1/events', body)).statusCode).toBe(200);
    expect((await call('POST', '/api/v1/customers/dd1/events', body)).statusCode).toBe(200);
    const rows = await db().selectFrom('events').select('id')
      .where('workspace_id', '=', ws.workspaceId).where('message_id', '=', body.id).execute();
    expect(rows).toHaveLength(1);
  });

  it('attributes anonymous events to the person identified with the same anonymous_id', async () => {
    expect((await call('POST', '/api/v1/events', { name: 'viewed_pricing', anonymous_id: 'anon-77', data: { plan: 'pro' } })).statusCode).toBe(200);
    expect((await call('PUT', '/api/v1/customers/u77', { email: 'u77@example.com', anonymous_id: 'anon-77' })).statusCode).toBe(200);
    const p = await personByUser('u77');
    const evs = await eventsOf(p!.id);
    expect(evs.map((e) => e.name)).toContain('viewed_pricing');
    const people = await db().selectFrom('person_identifiers').select('person_id')
      .where('workspace_id', '=', ws.workspaceId).where('kind', '=', 'anonymous').where('value', '=', 'anon-77').execute();
    expect(people.map((r) => r.person_id)).toEqual([p!.id]);
  });

  it('keeps an anonymous event without anonymous_id on an anonymous profile per recipient', async () => {
    const body = { name: 'invite', data: { recipient: 'Friend@Example.com' } };
    expect((await call('POST', '/api/v1/events', body)).statusCode).toBe(200);
    expect((await call('POST', '/api/v1/events', body)).statusCode).toBe(200);
    const rows = await db().selectFrom('events').select(['anonymous_id', 'person_id', 'user_id'])
      .where('workspace_id', '=', ws.workspaceId).where('name', '=', 'invite').execute();
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.anonymous_id === 'cio_invite:friend@example.com' && r.user_id === null)).toBe(true);
    expect(new Set(rows.map((r) => r.person_id)).size).toBe(1);
    expect(await peopleByEmail('Friend@Example.com')).toHaveLength(0);
  });

  it('merges secondary into primary: events move, the primary\'s attributes win', async () => {
    await call('PUT', '/api/v1/customers/prim', { plan: 'pro', city: 'Oslo' });
    await call('PUT', '/api/v1/customers/sec', { plan: 'free', phone_model: 'x1' });
    await call('POST', '/api/v1/customers/sec/events', { name: 'sec_event' });
    const sec = await personByUser('sec');
    const res = await call('POST', '/api/v1/merge_customers', { primary: { id: 'prim' }, secondary: { id: 'sec' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    const p = await personByUser('prim');
    expect(p?.attributes).toEqual({ plan: 'pro', city: 'Oslo', phone_model: 'x1' });
    expect((await eventsOf(p!.id)).map((e) => e.name)).toContain('sec_event');
    expect((await personByUser('sec'))?.id).toBe(p!.id);
    const gone = await db().selectFrom('people').select('id').where('workspace_id', '=', ws.workspaceId).where('id', '=', sec!.id).execute();
    expect(gone).toHaveLength(0);
    // Customer.io does nothing when a person is missing; neither does Tandem.
    expect((await call('POST', '/api/v1/merge_customers', { primary: { id: 'nope' }, secondary: { email: 'x@example.com' } })).statusCode).toBe(200);
  });

  it('DELETE removes a person without suppressing them', async () => {
    await call('PUT', '/api/v1/customers/del1', { plan: 'a' });
    const res = await t.app.inject({
      method: 'DELETE', url: '/api/v1/customers/del1',
      headers: { authorization: basic(ws.siteId, ws.trackApiKey), 'content-type': 'application/json', 'content-length': '0' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    expect(await personByUser('del1')).toBeUndefined();
    await call('PUT', '/api/v1/customers/del1', { plan: 'b' });
    expect((await personByUser('del1'))?.attributes).toEqual({ plan: 'b' });
  });

  it('suppress deletes and keeps the person out; unsuppress lets them back', async () => {
    await call('PUT', '/api/v1/customers/sup1', { email: 'sup1@example.com' });
    expect((await call('POST', '/api/v1/customers/sup1/suppress', {})).statusCode).toBe(200);
    expect(await personByUser('sup1')).toBeUndefined();
    expect((await call('PUT', '/api/v1/customers/sup1', { plan: 'back' })).statusCode).toBe(200);
    expect((await call('POST', '/api/v1/customers/sup1/events', { name: 'after' })).statusCode).toBe(200);
    expect((await call('PUT', '/api/v1/customers/sup1@example.com', { plan: 'back' })).statusCode).toBe(200);
    expect(await personByUser('sup1')).toBeUndefined();
    expect(await peopleByEmail('sup1@example.com')).toHaveLength(0);
    expect((await call('POST', '/api/v1/customers/sup1/unsuppress', {})).statusCode).toBe(200);
    await call('PUT', '/api/v1/customers/sup1', { plan: 'new' });
    expect((await personByUser('sup1'))?.attributes).toEqual({ plan: 'new' });
  });

  it('adds, updates and deletes devices', async () => {
    await call('PUT', '/api/v1/customers/dev1', {});
    const add = await call('PUT', '/api/v1/customers/dev1/devices', {
      device: { id: 'tok-1', platform: 'ios', last_used: 1700000000, attributes: { app_version: '1.2', push_enabled: 'true' } },
    });
    expect(add.statusCode).toBe(200);
    await call('PUT', '/api/v1/customers/dev1/devices', { device: { id: 'tok-2', platform: 'android' } });
    const p = await personByUser('dev1');
    const devices = () => db().selectFrom('devices').selectAll().where('workspace_id', '=', ws.workspaceId).where('person_id', '=', p!.id).orderBy('device_id').execute();
    let rows = await devices();
    expect(rows.map((d) => [d.device_id, d.platform])).toEqual([['tok-1', 'ios'], ['tok-2', 'android']]);
    expect(rows[0]?.attributes).toEqual({ app_version: '1.2', push_enabled: 'true' });
    expect(rows[0]?.last_used?.toISOString()).toBe('2023-11-14T22:13:20.000Z');
    const del = await t.app.inject({
      method: 'DELETE', url: '/api/v1/customers/dev1/devices/tok-1',
      headers: { authorization: basic(ws.siteId, ws.trackApiKey), 'content-type': 'application/json' },
    });
    expect(del.statusCode).toBe(200);
    rows = await devices();
    expect(rows.map((d) => d.device_id)).toEqual(['tok-2']);
    // A device for someone new creates them, as other Track calls do.
    expect((await call('PUT', '/api/v1/customers/dev-new/devices', { device: { id: 'tok-3', platform: 'ios' } })).statusCode).toBe(200);
    expect(await personByUser('dev-new')).toBeDefined();
    expect((await call('DELETE', '/api/v1/customers/nobody-here/devices/tok-9')).statusCode).toBe(200);
  });

  it('adds and removes object relationships from identify', async () => {
    const rels = [{ identifiers: { object_type_id: '1', object_id: 'acme' }, relationship_attributes: { role: 'admin' } }];
    await call('PUT', '/api/v1/customers/rel1', { cio_relationships: { action: 'add_relationships', relationships: rels } });
    const p = await personByUser('rel1');
    const relRows = () => db().selectFrom('object_relationships').selectAll().where('workspace_id', '=', ws.workspaceId).where('person_id', '=', p!.id).execute();
    expect((await relRows()).map((r) => [r.object_type, r.object_id, r.attributes])).toEqual([['1', 'acme', { role: 'admin' }]]);
    expect(p?.attributes).toEqual({});
    await call('PUT', '/api/v1/customers/rel1', { cio_relationships: { action: 'delete_relationships', relationships: rels } });
    expect(await relRows()).toHaveLength(0);
  });

  it('rejects bad input with 400, a code and the failing field', async () => {
    const cases: Array<[string, string, unknown, string, string?]> = [
      ['POST', '/api/v1/customers/v1/events', { data: {} }, 'name'],
      ['POST', '/api/v1/customers/v1/events', { name: '   ' }, 'name'],
      ['POST', '/api/v1/customers/v1/events', { name: 'x'.repeat(101) }, 'name'],
      ['POST', '/api/v1/customers/v1/events', { name: 'a', data: '' }, 'data'],
      ['POST', '/api/v1/customers/v1/events', { name: 'a', timestamp: 1700000000000 }, 'timestamp'],
      ['POST', '/api/v1/customers/v1/events', { name: 'a', timestamp: 'yesterday' }, 'timestamp'],
      ['POST', '/api/v1/events', { name: 'a', anonymous_id: { x: 1 } }, 'anonymous_id'],
      ['PUT', '/api/v1/customers/v1', { ['k'.repeat(151)]: 1 }, 'k'.repeat(151)],
      ['PUT', '/api/v1/customers/v1', { bio: 'b'.repeat(1001) }, 'bio'],
      ['PUT', '/api/v1/customers/v1', Object.fromEntries(Array.from({ length: 301 }, (_, i) => [`a${i}`, i])), 'body'],
      ['PUT', '/api/v1/customers/v1', { cio_relationships: { action: 'nope', relationships: [] } }, 'cio_relationships.action'],
      ['PUT', '/api/v1/customers/%20', { a: 1 }, 'identifier'],
      ['PUT', '/api/v1/customers/v1/devices', { device: { id: 't', platform: 'windows' } }, 'device.platform'],
      ['PUT', '/api/v1/customers/v1/devices', { device: { platform: 'ios' } }, 'device.id'],
      ['POST', '/api/v1/merge_customers', { primary: { id: 'a', email: 'a@x.io' }, secondary: { id: 'b' } }, 'primary'],
      ['POST', '/api/v1/merge_customers', { primary: { id: 'a' } }, 'secondary'],
      ['POST', '/api/v1/merge_customers', { primary: { id: 'a' }, secondary: { id: 'a' } }, 'secondary', 'person.merge_same'],
    ];
    for (const [method, url, body, field, code] of cases) {
      const res = await call(method as 'PUT', url, body);
      expect(res.statusCode, `${method} ${url} ${JSON.stringify(body).slice(0, 80)}`).toBe(400);
      expect(res.json()).toMatchObject({ meta: { error: anyText }, code: code ?? 'request.invalid', field });
    }
    const notJson = await t.app.inject({
      method: 'PUT', url: '/api/v1/customers/v1', payload: '{"a":',
      headers: { authorization: basic(ws.siteId, ws.trackApiKey), 'content-type': 'application/json' },
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json()).toMatchObject({ code: 'request.invalid_json', field: 'body' });
    const array = await call('POST', '/api/v1/customers/v1/events', [1, 2]);
    expect(array.statusCode).toBe(400);
    expect(await personByUser('v1')).toBeUndefined();
  });

  it('rejects requests over 32 KB with event.too_large', async () => {
    const res = await call('POST', '/api/v1/customers/big/events', { name: 'big', data: { blob: 'x'.repeat(33 * 1024) } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'event.too_large', meta: { error: anyText } });
    expect(await personByUser('big')).toBeUndefined();
  });

  it('keeps workspaces sealed: the same ids in two workspaces are two people', async () => {
    const b = await t.workspace('B');
    await call('PUT', '/api/v1/customers/shared-id', { plan: 'b-plan' }, b);
    await call('PUT', '/api/v1/customers/shared-id', { plan: 'a-plan' });
    await call('POST', '/api/v1/customers/shared-id/suppress', {});
    await call('POST', '/api/v1/merge_customers', { primary: { id: 'shared-id' }, secondary: { id: 'only-in-b' } });
    await call('PUT', '/api/v1/customers/only-in-b', { touched: true });
    const inB = await personByUser('shared-id', b);
    expect(inB?.attributes).toEqual({ plan: 'b-plan' });
    expect(await personByUser('shared-id')).toBeUndefined();
    const bPeople = await db().selectFrom('people').select(['id', 'attributes']).where('workspace_id', '=', b.workspaceId).execute();
    expect(bPeople).toHaveLength(1);
    // B's person named by cio_id from A's key: nothing happens to it.
    expect((await call('PUT', `/api/v1/customers/cio_${inB!.id}`, { plan: 'hijack' })).statusCode).toBe(200);
    expect((await call('DELETE', `/api/v1/customers/cio_${inB!.id}`)).statusCode).toBe(200);
    expect((await personByUser('shared-id', b))?.attributes).toEqual({ plan: 'b-plan' });
  });
});
