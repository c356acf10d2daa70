// Customer.io App API reads (GET /v1/customers/:id/attributes, GET /v1/customers?email=) in-process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, bearer, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';
import { attributeString, isUnsubscribed } from './app-routes.ts';

/** Matches any string / number (typed, so the assertions stay type-checked). */
const anyText = expect.any(String) as string;
const anyNumber = expect.any(Number) as number;

describe('Customer.io App API reads', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let cioId: string;
  beforeAll(async () => {
    t = await createTestTandem();
    ws = await t.workspace('cio app');
    const track = (method: 'PUT' | 'POST', url: string, payload: Record<string, unknown>) =>
      t.app.inject({ method, url, headers: { authorization: basic(ws.siteId, ws.trackApiKey) }, payload });
    await track('PUT', '/api/v1/customers/app-1', {
      email: 'app1@example.com', created_at: 1361205308, plan: 'pro', seats: 5, vip: true, prefs: { theme: 'dark' }, unsubscribed: 'TRUE',
    });
    await track('PUT', '/api/v1/customers/app-1/devices', { device: { id: 'tok-a', platform: 'ios', last_used: 1700000000, attributes: { app_version: '2.0' } } });
    const row = await t.services.db.selectFrom('people').select('id').where('workspace_id', '=', ws.workspaceId).where('external_id', '=', 'app-1').executeTakeFirstOrThrow();
    cioId = row.id;
  });
  afterAll(async () => { await t.close(); });

  const get = (url: string, key = ws.appApiKey) => t.app.inject({ method: 'GET', url, headers: { authorization: bearer(key) } });

  it('answers a person\'s attributes and devices by id, email and cio_id', async () => {
    const expected = {
      customer: {
        id: 'app-1',
        identifiers: { id: 'app-1', email: 'app1@example.com', cio_id: cioId },
        attributes: {
          id: 'app-1', email: 'app1@example.com', cio_id: cioId, created_at: '1361205308', plan: 'pro', seats: '5', vip: 'true',
          prefs: '{"theme":"dark"}', unsubscribed: 'TRUE',
        },
        timestamps: { cio_id: anyNumber },
        unsubscribed: true,
        devices: [{ id: 'tok-a', platform: 'ios', last_used: 1700000000, attributes: { app_version: '2.0' } }],
      },
    };
    for (const url of [
      '/v1/customers/app-1/attributes',
      '/v1/customers/app-1/attributes?id_type=id',
      '/v1/customers/app1@example.com/attributes?id_type=email',
      `/v1/customers/${cioId}/attributes?id_type=cio_id`,
      `/v1/customers/cio_${cioId}/attributes?id_type=cio_id`,
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.json()).toEqual(expected);
    }
  });

  it('answers 404 for unknown people and 400 for an unsupported id_type', async () => {
    const missing = await get('/v1/customers/nobody/attributes');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ meta: { error: anyText }, code: 'person.not_found' });
    expect((await get('/v1/customers/not-a-uuid/attributes?id_type=cio_id')).statusCode).toBe(404);
    const phone = await get('/v1/customers/%2B14155552671/attributes?id_type=phone');
    expect(phone.statusCode).toBe(400);
    expect(phone.json()).toMatchObject({ code: 'request.invalid', field: 'querystring.id_type' });
  });

  it('finds people by email (case-insensitive)', async () => {
    const res = await get('/v1/customers?email=APP1%40example.com');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ results: [{ email: 'app1@example.com', id: 'app-1', cio_id: cioId }] });
    expect((await get('/v1/customers?email=none%40example.com')).json()).toEqual({ results: [] });
    const noEmail = await get('/v1/customers');
    expect(noEmail.statusCode).toBe(400);
    expect(noEmail.json()).toMatchObject({ code: 'request.invalid', field: 'querystring.email' });
  });

  it('needs the workspace\'s app key: 401 otherwise, and never reads another workspace', async () => {
    for (const key of ['tdm_app_wrong', ws.trackApiKey]) {
      const res = await get('/v1/customers/app-1/attributes', key);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'auth.invalid', meta: { error: anyText } });
    }
    const track = await t.app.inject({ method: 'GET', url: '/v1/customers/app-1/attributes', headers: { authorization: basic(ws.siteId, ws.trackApiKey) } });
    expect(track.statusCode).toBe(401);
    const other = await t.workspace('other');
    expect((await get('/v1/customers/app-1/attributes', other.appApiKey)).statusCode).toBe(404);
    expect((await get(`/v1/customers/${cioId}/attributes?id_type=cio_id`, other.appApiKey)).statusCode).toBe(404);
    expect((await get('/v1/customers?email=app1%40example.com', other.appApiKey)).json()).toEqual({ results: [] });
  });

  it('formats values as Customer.io does', () => {
    expect([attributeString('a'), attributeString(3.5), attributeString(false), attributeString([1, 'b'])]).toEqual(['a', '3.5', 'false', '[1,"b"]']);
    expect([true, 1, '1', 'True', 'TRUE'].every(isUnsubscribed)).toBe(true);
    expect([false, 0, '0', 'false', 'yes', null, undefined].some(isUnsubscribed)).toBe(false);
  });
});
