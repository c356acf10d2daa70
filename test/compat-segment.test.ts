// Drop-in check: the official @segment/analytics-node client, pointed at Tandem on a real port.
import { gzipSync } from 'node:zlib';
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestTandem, type TestTandem } from './harness.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

describe('@segment/analytics-node against Tandem', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  beforeAll(async () => {
    t = await createTestTandem({ listen: true });
    ws = await t.workspace('Segment compat');
  });
  afterAll(async () => { await t.close(); });

  function client(writeKey = ws.writeKey) {
    const analytics = new Analytics({ writeKey, host: t.baseUrl, path: '/v1/batch', flushAt: 6, flushInterval: 50, maxRetries: 0 });
    const failures: unknown[] = [];
    const statuses: number[] = [];
    analytics.on('error', (err) => failures.push(err));
    analytics.on('http_response', (r) => statuses.push(r.status));
    return { analytics, failures, statuses };
  }

  it('round-trips identify, track, page, screen, group and alias into one profile per person', async () => {
    const { analytics, failures, statuses } = client();
    // Batches are sent concurrently; each phase waits for its own delivery so that order is known.
    const delivered: Array<Promise<unknown>> = [];
    const cb = () => {
      let done!: (v: unknown) => void;
      delivered.push(new Promise((r) => { done = r; }));
      return (err?: unknown) => done(err);
    };
    // Phase 1 (one batch of 6): an anonymous visitor browses, signs up, buys, joins an account.
    analytics.page({ anonymousId: 'visitor-1', name: 'Pricing', category: 'Marketing', properties: { path: '/pricing' } }, cb());
    analytics.track({ anonymousId: 'visitor-1', event: 'Plan Selected', properties: { plan: 'pro', price: 49.5 } }, cb());
    analytics.identify({ userId: 'user-1', anonymousId: 'visitor-1', traits: { email: 'one@example.com', name: 'One' } }, cb());
    analytics.track({ userId: 'user-1', event: 'Order Completed', properties: { total: 99, items: [{ sku: 'a' }] } }, cb());
    analytics.screen({ userId: 'user-1', name: 'Home', properties: { tab: 'feed' } }, cb());
    analytics.group({ userId: 'user-1', groupId: 'acme', traits: { name: 'Acme Inc', plan: 'enterprise' } }, cb());
    expect(await Promise.all(delivered)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    // Phase 2: a second person, known first by an old id, then aliased to the new one.
    analytics.identify({ userId: 'legacy-2', traits: { first: true } });
    analytics.identify({ userId: 'user-2', traits: { email: 'two@example.com' } });
    analytics.alias({ userId: 'user-2', previousId: 'legacy-2' });
    analytics.track({ userId: 'user-2', event: 'Logged In' });
    await analytics.closeAndFlush({ timeout: 10_000 });

    expect(failures).toEqual([]);
    expect(statuses).toHaveLength(2);
    expect(statuses.every((s) => s === 200)).toBe(true);

    const rows = await t.services.db.selectFrom('events').selectAll().where('workspace_id', '=', ws.workspaceId).orderBy('id').execute();
    expect(rows.map((r) => [r.type, r.name])).toEqual([
      ['page', 'Pricing'], ['track', 'Plan Selected'], ['identify', null], ['track', 'Order Completed'],
      ['screen', 'Home'], ['group', null], ['identify', null], ['identify', null], ['alias', null], ['track', 'Logged In'],
    ]);
    expect(rows.every((r) => r.source === 'segment' && r.message_id)).toBe(true);
    expect(rows[0]?.properties).toMatchObject({ path: '/pricing', category: 'Marketing' });
    expect(rows[1]?.properties).toEqual({ plan: 'pro', price: 49.5 });
    expect(rows[3]?.properties).toEqual({ total: 99, items: [{ sku: 'a' }] });
    expect(rows[0]?.context).toMatchObject({ library: { name: '@segment/analytics-node' }, ip: '127.0.0.1' });

    const people = await t.services.db.selectFrom('people').selectAll().where('workspace_id', '=', ws.workspaceId).execute();
    expect(people).toHaveLength(2);
    const one = people.find((p) => p.external_id === 'user-1');
    const two = people.find((p) => p.external_id === 'user-2');
    expect(one).toMatchObject({ email: 'one@example.com', identified: true });
    expect(one?.attributes).toMatchObject({ name: 'One' });
    expect(two?.attributes).toMatchObject({ first: true });
    const personOf = (i: number) => rows[i]?.person_id;
    expect([0, 1, 2, 3, 4, 5].map(personOf).every((id) => id === one?.id)).toBe(true);
    expect([6, 7, 8, 9].map(personOf).every((id) => id === two?.id)).toBe(true);

    const ids = await t.services.db.selectFrom('person_identifiers').select(['kind', 'value', 'person_id'])
      .where('workspace_id', '=', ws.workspaceId).orderBy('value').execute();
    expect(ids.map((i) => [i.kind, i.value, i.person_id === one?.id ? 'one' : 'two'])).toEqual([
      ['user', 'legacy-2', 'two'], ['user', 'user-1', 'one'], ['user', 'user-2', 'two'], ['anonymous', 'visitor-1', 'one'],
    ].sort((a, b) => (a[1]! < b[1]! ? -1 : 1)));

    const group = await t.services.db.selectFrom('objects').selectAll().where('workspace_id', '=', ws.workspaceId).executeTakeFirst();
    expect(group).toMatchObject({ object_type: 'group', object_id: 'acme', attributes: { name: 'Acme Inc', plan: 'enterprise' } });
    const rel = await t.services.db.selectFrom('object_relationships').selectAll().where('workspace_id', '=', ws.workspaceId).execute();
    expect(rel.map((r) => [r.person_id, r.object_id])).toEqual([[one?.id, 'acme']]);
  });

  it('accepts a gzip-compressed batch over a real socket (clients and proxies that compress)', async () => {
    const body = gzipSync(JSON.stringify({ batch: [{ type: 'track', userId: 'zip-1', event: 'Compressed', messageId: 'zip-m1' }] }));
    const res = await fetch(`${t.baseUrl}/v1/batch`, {
      method: 'POST', body,
      headers: { authorization: basic(ws.writeKey), 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
    const rows = await t.services.db.selectFrom('events').select('name').where('message_id', '=', 'zip-m1').execute();
    expect(rows).toEqual([{ name: 'Compressed' }]);
  });

  it('reports a wrong write key as a failed delivery and stores nothing', async () => {
    const { analytics, failures, statuses } = client('tdm_wk_wrong');
    analytics.track({ userId: 'nobody', event: 'Rejected' });
    await analytics.closeAndFlush({ timeout: 10_000 });
    expect(statuses).toEqual([401]);
    expect(failures).toHaveLength(1);
    const rows = await t.services.db.selectFrom('events').select('id').where('name', '=', 'Rejected').execute();
    expect(rows).toHaveLength(0);
  });
});
