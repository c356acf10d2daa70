// Drop-in check: the official customerio-node client (TrackClient, APIClient) against a listening Tandem.
// The client always speaks https.request; an http.Agent with protocol 'http:' points it at plain HTTP
// on localhost, and `url` replaces the region's base URL (as for a proxy or a self-hosted endpoint).
import http from 'node:http';
import { APIClient, CustomerIORequestError, IdentifierType, TrackClient } from 'customerio-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';
import { createTestTandem, type TestTandem } from './harness.ts';

describe('customerio-node against Tandem', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let track: TrackClient;
  let api: APIClient;
  const agent = new http.Agent({ keepAlive: true });

  beforeAll(async () => {
    t = await createTestTandem({ listen: true });
    ws = await t.workspace('customerio-node');
    const port = Number(new URL(t.baseUrl).port);
    const transport = { protocol: 'http:', port, agent };
    track = new TrackClient(ws.siteId, ws.trackApiKey, { url: `${t.baseUrl}/api/v1`, ...transport });
    api = new APIClient(ws.appApiKey, { url: `${t.baseUrl}/v1`, ...transport });
  });
  afterAll(async () => {
    agent.destroy();
    await t.close();
  });

  const db = () => t.services.db;
  const profilesFor = (userId: string) => db().selectFrom('people').selectAll()
    .where('workspace_id', '=', ws.workspaceId).where('external_id', '=', userId).execute();
  const eventsOf = (personId: string) => db().selectFrom('events').select(['type', 'name', 'properties'])
    .where('workspace_id', '=', ws.workspaceId).where('person_id', '=', personId).orderBy('id').execute();

  it('identify, track, trackAnonymous, trackPageView: one profile with every event', async () => {
    expect(await track.identify('c1', { email: 'c1@example.com', created_at: 1361205308, plan: 'basic' })).toEqual({});
    expect(await track.track('c1', { name: 'purchase', data: { price: 23.45 }, id: '01HQ7Z3Y8ZP6V4K9D2S1X0C1E1' })).toEqual({});
    await track.track('c1', { name: 'purchase', data: { price: 23.45 }, id: '01HQ7Z3Y8ZP6V4K9D2S1X0C1E1' });
    expect(await track.trackAnonymous('anon-c1', { name: 'viewed_pricing', data: { plan: 'pro' } })).toEqual({});
    expect(await track.trackPageView('c1', '/pricing')).toEqual({});
    await track.identify('c1', { anonymous_id: 'anon-c1', plan: 'pro' });
    await track.identify('c1@example.com', { last_seen: 1700000000 });

    const profiles = await profilesFor('c1');
    expect(profiles).toHaveLength(1);
    expect(profiles[0]?.attributes).toEqual({ email: 'c1@example.com', created_at: 1361205308, plan: 'pro', last_seen: 1700000000 });
    const events = await eventsOf(profiles[0]!.id);
    expect(events.filter((e) => e.type !== 'identify').map((e) => [e.type, e.name])).toEqual([
      ['track', 'purchase'], ['track', 'viewed_pricing'], ['page', '/pricing'],
    ]);
    const byEmail = await db().selectFrom('people').select('id').where('workspace_id', '=', ws.workspaceId).where('email', '=', 'c1@example.com').execute();
    expect(byEmail).toHaveLength(1);
  });

  it('addDevice, deleteDevice', async () => {
    await track.identify('c2', { email: 'c2@example.com' });
    expect(await track.addDevice('c2', 'tok-c2', 'ios', { last_used: 1700000000, app_version: '1.0' })).toEqual({});
    const [p] = await profilesFor('c2');
    const devices = () => db().selectFrom('devices').select(['device_id', 'platform', 'attributes'])
      .where('workspace_id', '=', ws.workspaceId).where('person_id', '=', p!.id).execute();
    expect(await devices()).toEqual([{ device_id: 'tok-c2', platform: 'ios', attributes: { app_version: '1.0' } }]);
    expect(await track.deleteDevice('c2', 'tok-c2')).toEqual({});
    expect(await devices()).toEqual([]);
  });

  it('mergeCustomers folds the secondary into the primary', async () => {
    await track.identify('c3', { plan: 'gold' });
    await track.identify('c3-dup@example.com', { plan: 'free', city: 'Paris' });
    await track.track('c3-dup@example.com', { name: 'dup_event' });
    expect(await track.mergeCustomers(IdentifierType.Id, 'c3', IdentifierType.Email, 'c3-dup@example.com')).toEqual({});
    const profiles = await profilesFor('c3');
    expect(profiles).toHaveLength(1);
    expect(profiles[0]?.attributes).toMatchObject({ plan: 'gold', city: 'Paris' });
    expect((await eventsOf(profiles[0]!.id)).map((e) => e.name)).toContain('dup_event');
    const dup = await db().selectFrom('people').select('id').where('workspace_id', '=', ws.workspaceId).where('email', '=', 'c3-dup@example.com').execute();
    expect(dup.map((r) => r.id)).toEqual([profiles[0]!.id]);
  });

  it('suppress keeps the person out until unsuppress; destroy deletes', async () => {
    await track.identify('c4', { email: 'c4@example.com' });
    expect(await track.suppress('c4')).toEqual({});
    await track.identify('c4', { plan: 'back' });
    await track.track('c4', { name: 'ignored' });
    expect(await profilesFor('c4')).toHaveLength(0);
    expect(await track.unsuppress('c4')).toEqual({});
    await track.identify('c4', { plan: 'new' });
    expect((await profilesFor('c4')).map((p) => p.attributes)).toEqual([{ plan: 'new' }]);

    await track.identify('c5', {});
    expect(await track.destroy('c5')).toEqual({});
    expect(await profilesFor('c5')).toHaveLength(0);
  });

  it('App API reads: getAttributes by id and email, getCustomersByEmail', async () => {
    await track.identify('c6', { email: 'c6+tag@example.com', plan: 'pro', seats: 3 });
    await track.addDevice('c6', 'tok-c6', 'android');
    const [p] = await profilesFor('c6');
    const byId = await api.getAttributes('c6') as { customer: { id: string; attributes: Record<string, string>; devices: Array<{ id: string }> } };
    expect(byId.customer.id).toBe('c6');
    expect(byId.customer.attributes).toMatchObject({ id: 'c6', email: 'c6+tag@example.com', cio_id: p!.id, plan: 'pro', seats: '3' });
    expect(byId.customer.devices.map((d) => d.id)).toEqual(['tok-c6']);
    const byCio = await api.getAttributes(p!.id, IdentifierType.CioId) as { customer: { id: string } };
    expect(byCio.customer.id).toBe('c6');
    expect(await api.getCustomersByEmail('c6+tag@example.com')).toEqual({ results: [{ email: 'c6+tag@example.com', id: 'c6', cio_id: p!.id }] });
  });

  it('surfaces Tandem\'s errors as CustomerIORequestError with Customer.io\'s message', async () => {
    const bad = await track.addDevice('c7', 'tok', 'windows').catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(CustomerIORequestError);
    expect((bad as CustomerIORequestError).statusCode).toBe(400);
    expect((bad as CustomerIORequestError).message).toMatch(/device\.platform/);
    const port = Number(new URL(t.baseUrl).port);
    const wrong = new TrackClient(ws.siteId, 'tdm_tk_wrong', { url: `${t.baseUrl}/api/v1`, protocol: 'http:', port, agent });
    const denied = await wrong.identify('c7', {}).catch((e: unknown) => e);
    expect((denied as CustomerIORequestError).statusCode).toBe(401);
    const missing = await api.getAttributes('nobody').catch((e: unknown) => e);
    expect((missing as CustomerIORequestError).statusCode).toBe(404);
    expect(await profilesFor('c7')).toHaveLength(0);
  });
});
