// Customer.io Track API v2 (/api/v2/entity, /api/v2/batch) in-process against a real PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';

/** Matches any string / number (typed, so the assertions stay type-checked). */
const anyText = expect.any(String) as string;

describe('Customer.io Track API v2', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  beforeAll(async () => {
    t = await createTestTandem();
    ws = await t.workspace('cio v2');
  });
  afterAll(async () => { await t.close(); });

  const post = (url: string, payload: unknown, w: CreatedWorkspace = ws) => t.app.inject({
    method: 'POST', url, headers: { authorization: basic(w.siteId, w.trackApiKey) }, payload: payload as Record<string, unknown>,
  });
  const entity = (payload: unknown) => post('/api/v2/entity', payload);
  const db = () => t.services.db;
  const personByUser = (userId: string, w: CreatedWorkspace = ws) => db().selectFrom('person_identifiers as i')
    .innerJoin('people as p', (j) => j.onRef('p.id', '=', 'i.person_id').onRef('p.workspace_id', '=', 'i.workspace_id'))
    .selectAll('p').where('i.workspace_id', '=', w.workspaceId).where('i.kind', '=', 'user').where('i.value', '=', userId)
    .executeTakeFirst();
  const eventsOf = (personId: string) => db().selectFrom('events').selectAll()
    .where('workspace_id', '=', ws.workspaceId).where('person_id', '=', personId).orderBy('id').execute();
  const relationsOf = (personId: string) => db().selectFrom('object_relationships').select(['object_type', 'object_id', 'attributes'])
    .where('workspace_id', '=', ws.workspaceId).where('person_id', '=', personId).orderBy('object_type').orderBy('object_id').execute();
  const person = (id: string, action: string, rest: Record<string, unknown> = {}) =>
    ({ type: 'person', identifiers: { id }, action, ...rest });

  it('identifies a person and tracks events, pages and screens', async () => {
    for (const op of [
      person('p1', 'identify', { attributes: { first_name: 'Jane', plan: 'premium' } }),
      person('p1', 'event', { name: 'purchase', id: 'evt-p1-1', timestamp: 1700000000, attributes: { price: 29.99 } }),
      person('p1', 'page', { name: '/pricing', attributes: { referrer: 'https://example.com' } }),
      person('p1', 'screen', { name: 'Dashboard' }),
    ]) {
      const res = await entity(op);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({});
    }
    const p = await personByUser('p1');
    expect(p?.attributes).toEqual({ first_name: 'Jane', plan: 'premium' });
    const evs = await eventsOf(p!.id);
    expect(evs.map((e) => [e.type, e.name])).toEqual([['identify', null], ['track', 'purchase'], ['page', '/pricing'], ['screen', 'Dashboard']]);
    expect(evs[1]?.properties).toEqual({ price: 29.99 });
    expect(evs[1]?.message_id).toBe('evt-p1-1');
    expect(evs[1]?.timestamp.toISOString()).toBe('2023-11-14T22:13:20.000Z');
    // The same event id again is stored once.
    await entity(person('p1', 'event', { name: 'purchase', id: 'evt-p1-1' }));
    expect((await eventsOf(p!.id)).filter((e) => e.name === 'purchase')).toHaveLength(1);
  });

  it('identify with _update never creates; by email works', async () => {
    await entity(person('p-ghost', 'identify', { attributes: { _update: true, plan: 'x' } }));
    expect(await personByUser('p-ghost')).toBeUndefined();
    await entity({ type: 'person', identifiers: { email: 'v2@example.com' }, action: 'identify', attributes: { plan: 'e' } });
    const rows = await db().selectFrom('people').selectAll().where('workspace_id', '=', ws.workspaceId).where('email', '=', 'v2@example.com').execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.attributes).toMatchObject({ plan: 'e' });
  });

  it('adds and deletes devices, relationships; suppresses, unsuppresses, deletes and merges people', async () => {
    await entity(person('p2', 'identify', { attributes: { plan: 'a' } }));
    await entity(person('p2', 'add_device', { device: { token: 'dt-1', platform: 'android', last_used: 1700000000, attributes: { app_version: '3' } } }));
    const p2 = await personByUser('p2');
    const devices = () => db().selectFrom('devices').select(['device_id', 'platform']).where('workspace_id', '=', ws.workspaceId).where('person_id', '=', p2!.id).execute();
    expect(await devices()).toEqual([{ device_id: 'dt-1', platform: 'android' }]);
    await entity(person('p2', 'delete_device', { device: { token: 'dt-1' } }));
    expect(await devices()).toEqual([]);

    const rels = [{ identifiers: { object_type_id: '1', object_id: 'acme' }, relationship_attributes: { role: 'admin' } }];
    expect((await entity(person('p2', 'add_relationships', { cio_relationships: rels }))).statusCode).toBe(200);
    expect(await relationsOf(p2!.id)).toEqual([{ object_type: '1', object_id: 'acme', attributes: { role: 'admin' } }]);
    await entity(person('p2', 'delete_relationships', { cio_relationships: rels }));
    expect(await relationsOf(p2!.id)).toEqual([]);

    await entity(person('p3', 'identify', { attributes: { plan: 'b', extra: 1 } }));
    await entity(person('p3', 'event', { name: 'p3_event' }));
    expect((await entity({ type: 'person', action: 'merge', primary: { id: 'p2' }, secondary: { id: 'p3' } })).statusCode).toBe(200);
    expect((await personByUser('p3'))?.id).toBe(p2!.id);
    expect((await personByUser('p2'))?.attributes).toEqual({ plan: 'a', extra: 1 });
    expect((await eventsOf(p2!.id)).map((e) => e.name)).toContain('p3_event');

    await entity(person('p2', 'suppress'));
    expect(await personByUser('p2')).toBeUndefined();
    await entity(person('p2', 'identify', { attributes: { plan: 'again' } }));
    await entity(person('p2', 'event', { name: 'after_suppress' }));
    expect(await personByUser('p2')).toBeUndefined();
    await entity(person('p2', 'unsuppress'));
    await entity(person('p2', 'identify', { attributes: { plan: 'again' } }));
    expect((await personByUser('p2'))?.attributes).toEqual({ plan: 'again' });
    await entity(person('p2', 'delete'));
    expect(await personByUser('p2')).toBeUndefined();
  });

  it('identifies objects with relationships, relates and unrelates people, deletes objects', async () => {
    await entity(person('o-u1', 'identify'));
    const res = await entity({
      type: 'object', identifiers: { object_type_id: '1', object_id: 'acme' }, action: 'identify',
      attributes: { name: 'Acme Corp', seats: 50 },
      cio_relationships: [{ identifiers: { id: 'o-u1' }, relationship_attributes: { role: 'owner' } }, { identifiers: { email: 'o-u2@example.com' } }],
    });
    expect(res.statusCode).toBe(200);
    const obj = await db().selectFrom('objects').selectAll().where('workspace_id', '=', ws.workspaceId)
      .where('object_type', '=', '1').where('object_id', '=', 'acme').executeTakeFirst();
    expect(obj?.attributes).toEqual({ name: 'Acme Corp', seats: 50 });
    const u1 = await personByUser('o-u1');
    expect(await relationsOf(u1!.id)).toEqual([{ object_type: '1', object_id: 'acme', attributes: { role: 'owner' } }]);
    const u2 = await db().selectFrom('people').select('id').where('workspace_id', '=', ws.workspaceId).where('email', '=', 'o-u2@example.com').executeTakeFirst();
    expect(await relationsOf(u2!.id)).toHaveLength(1);

    await entity({ type: 'object', identifiers: { object_type_id: '1', object_id: 'acme' }, action: 'identify', attributes: { seats: '' } });
    const updated = await db().selectFrom('objects').select('attributes').where('workspace_id', '=', ws.workspaceId).where('object_id', '=', 'acme').executeTakeFirst();
    expect(updated?.attributes).toEqual({ name: 'Acme Corp' });

    await entity({ type: 'object', identifiers: { object_type_id: '1', object_id: 'acme' }, action: 'delete_relationships', cio_relationships: [{ identifiers: { id: 'o-u1' } }] });
    expect(await relationsOf(u1!.id)).toEqual([]);
    await entity({ type: 'object', identifiers: { object_type_id: 2, object_id: 'course-9' }, action: 'add_relationships', cio_relationships: [{ identifiers: { id: 'o-u1' } }] });
    expect(await relationsOf(u1!.id)).toEqual([{ object_type: '2', object_id: 'course-9', attributes: {} }]);

    await entity({ type: 'object', identifiers: { object_type_id: '1', object_id: 'acme' }, action: 'delete' });
    const gone = await db().selectFrom('objects').select('object_id').where('workspace_id', '=', ws.workspaceId).where('object_id', '=', 'acme').execute();
    expect(gone).toHaveLength(0);
    expect(await relationsOf(u2!.id)).toEqual([]);
  });

  it('relates an anonymous visitor to an object; the relation follows them when they identify', async () => {
    await entity({ type: 'person', identifiers: { anonymous_id: 'anon-o' }, action: 'page', name: '/team' });
    await entity({
      type: 'object', identifiers: { object_type_id: '1', object_id: 'beta' }, action: 'identify_anonymous',
      anonymous_id: 'anon-o', cio_relationships: [{ identifiers: { anonymous_id: 'anon-o' } }],
    });
    await entity(person('o-u3', 'identify', { attributes: { anonymous_id: 'anon-o' } }));
    const u3 = await personByUser('o-u3');
    expect(await relationsOf(u3!.id)).toEqual([{ object_type: '1', object_id: 'beta', attributes: {} }]);
    expect((await eventsOf(u3!.id)).map((e) => e.name)).toContain('/team');
  });

  it('rejects an invalid entity with 400, the code, the field and Customer.io\'s errors array', async () => {
    const cases: Array<[unknown, string]> = [
      [{ identifiers: { id: 'x' }, action: 'identify' }, 'type'],
      [{ type: 'person', identifiers: { id: 'x' }, action: 'fly' }, 'action'],
      [{ type: 'person', action: 'identify' }, 'identifiers'],
      [{ type: 'person', identifiers: { id: 'x', email: 'x@example.com' }, action: 'identify' }, 'identifiers'],
      [{ type: 'person', identifiers: { phone: '+14155552671' }, action: 'identify' }, 'identifiers.phone'],
      [{ type: 'person', identifiers: { id: 'x' }, action: 'event' }, 'name'],
      [{ type: 'person', identifiers: { id: 'x' }, action: 'add_device', device: { platform: 'ios' } }, 'device.token'],
      [{ type: 'person', identifiers: { id: 'x' }, action: 'add_relationships' }, 'cio_relationships'],
      [{ type: 'object', identifiers: { object_id: 'a' }, action: 'identify' }, 'identifiers.object_type_id'],
      [{ type: 'delivery', identifiers: { id: 'd' }, action: 'event', name: 'opened' }, 'type'],
    ];
    for (const [body, field] of cases) {
      const res = await entity(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({
        meta: { error: anyText }, code: 'request.invalid', field,
        errors: [{ reason: 'request.invalid', field, message: anyText }],
      });
    }
    expect(await personByUser('x')).toBeUndefined();
    const big = await entity(person('big', 'identify', { attributes: { blob: 'x'.repeat(33 * 1024) } }));
    expect(big.statusCode).toBe(400);
    expect(big.json()).toMatchObject({ code: 'event.too_large', errors: [{ reason: 'event.too_large' }] });
    const unauth = await t.app.inject({ method: 'POST', url: '/api/v2/entity', headers: { authorization: basic(ws.siteId, 'nope') }, payload: person('x', 'identify') });
    expect(unauth.statusCode).toBe(401);
    expect(unauth.json()).toMatchObject({ code: 'auth.invalid', errors: [{ reason: 'auth.invalid' }] });
  });

  it('carries out a batch: valid operations are stored, invalid ones answered with 207 and their index', async () => {
    const ok = await post('/api/v2/batch', {
      batch: [
        person('b1', 'identify', { attributes: { plan: 'x' } }),
        { type: 'object', identifiers: { object_type_id: '1', object_id: 'b-obj' }, action: 'identify', attributes: { n: 1 } },
        { type: 'object', identifiers: { object_type_id: '1', object_id: 'b-obj' }, action: 'add_relationships', cio_relationships: [{ identifiers: { id: 'b1' } }] },
        person('b1', 'event', { name: 'in_batch' }),
      ],
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({});
    const b1 = await personByUser('b1');
    expect(await relationsOf(b1!.id)).toEqual([{ object_type: '1', object_id: 'b-obj', attributes: {} }]);
    expect((await eventsOf(b1!.id)).map((e) => e.name)).toEqual([null, 'in_batch']);

    const mixed = await post('/api/v2/batch', {
      batch: [
        person('b2', 'identify', { attributes: { plan: 'y' } }),
        { type: 'person', action: 'identify', attributes: {} },
        person('b2', 'event', { name: 'e'.repeat(200) }),
        person('b3', 'identify', { attributes: { blob: 'x'.repeat(33 * 1024) } }),
        person('b2', 'event', { name: 'kept' }),
      ],
    });
    expect(mixed.statusCode).toBe(207);
    expect(mixed.json()).toEqual({
      errors: [
        { batch_index: 1, reason: 'request.invalid', field: 'batch[1].identifiers', message: anyText },
        { batch_index: 2, reason: 'request.invalid', field: 'batch[2].name', message: anyText },
        { batch_index: 3, reason: 'event.too_large', field: 'batch[3]', message: anyText },
      ],
    });
    const b2 = await personByUser('b2');
    expect(b2?.attributes).toEqual({ plan: 'y' });
    expect((await eventsOf(b2!.id)).map((e) => e.name)).toEqual([null, 'kept']);
    expect(await personByUser('b3')).toBeUndefined();
  });

  it('rejects a batch over 500 KB or without a batch array with 400', async () => {
    const items = Array.from({ length: 20 }, (_, i) => person(`huge${i}`, 'identify', { attributes: { blob: 'x'.repeat(26 * 1024) } }));
    const huge = await post('/api/v2/batch', { batch: items });
    expect(huge.statusCode).toBe(400);
    expect(huge.json()).toMatchObject({ code: 'batch.too_large', errors: [{ reason: 'batch.too_large' }] });
    expect(await personByUser('huge0')).toBeUndefined();
    const notArray = await post('/api/v2/batch', { batch: 'nope' });
    expect(notArray.statusCode).toBe(400);
    expect(notArray.json()).toMatchObject({ code: 'request.invalid', field: 'batch' });
  });

  it('keeps workspaces sealed', async () => {
    const b = await t.workspace('B');
    await post('/api/v2/entity', person('w-shared', 'identify', { attributes: { ws: 'b' } }), b);
    await entity(person('w-shared', 'delete'));
    await entity({ type: 'person', action: 'merge', primary: { id: 'w-new' }, secondary: { id: 'w-shared' } });
    await entity({ type: 'object', identifiers: { object_type_id: '1', object_id: 'acme-b' }, action: 'add_relationships', cio_relationships: [{ identifiers: { id: 'w-shared' } }] });
    const inB = await personByUser('w-shared', b);
    expect(inB?.attributes).toEqual({ ws: 'b' });
    const bRels = await db().selectFrom('object_relationships').select('object_id').where('workspace_id', '=', b.workspaceId).execute();
    expect(bRels).toHaveLength(0);
  });
});
