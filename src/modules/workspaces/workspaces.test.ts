import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import { MAX_ACTIVE_KEYS } from './service.ts';

describe('workspaces and keys', () => {
  let t: TestTandem;
  beforeAll(async () => { t = await createTestTandem(); });
  afterAll(async () => { await t.close(); });

  it('creates a workspace with prefixed keys stored only as hashes', async () => {
    const ws = await t.workspace('Acme');
    expect(ws.writeKey).toMatch(/^tdm_wk_/);
    expect(ws.trackApiKey).toMatch(/^tdm_tk_/);
    expect(ws.appApiKey).toMatch(/^tdm_app_/);
    expect(ws.siteId).toMatch(/^site_/);
    const rows = await t.services.db.selectFrom('api_keys').selectAll().where('workspace_id', '=', ws.workspaceId).execute();
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect([ws.writeKey, ws.trackApiKey, ws.appApiKey]).not.toContain(r.hash);
      expect(JSON.stringify(r)).not.toContain(ws.appApiKey);
    }
  });

  it('lists, rotates and revokes keys over the API', async () => {
    const ws = await t.workspace();
    const list = await t.app.inject({ method: 'GET', url: '/api/keys', headers: { authorization: bearer(ws.appApiKey) } });
    expect(list.statusCode).toBe(200);
    const keys = list.json<{ keys: Array<{ id: string; kind: string; prefix: string }> }>().keys;
    expect(keys.map((k) => k.kind).sort()).toEqual(['app', 'track', 'write']);
    const write = keys.find((k) => k.kind === 'write')!;
    expect(ws.writeKey.startsWith(write.prefix.replace('…', ''))).toBe(true);

    const rotated = await t.app.inject({ method: 'POST', url: `/api/keys/${write.id}/rotate`, headers: { authorization: bearer(ws.appApiKey) } });
    expect(rotated.statusCode).toBe(200);
    const newSecret = rotated.json<{ secret: string }>().secret;
    expect(newSecret).toMatch(/^tdm_wk_/);
    expect(await t.services.workspaces.authenticate('write', ws.writeKey)).toBeNull();
    expect((await t.services.workspaces.authenticate('write', newSecret))?.workspaceId).toBe(ws.workspaceId);

    const app = keys.find((k) => k.kind === 'app')!;
    const revoked = await t.app.inject({ method: 'DELETE', url: `/api/keys/${app.id}`, headers: { authorization: bearer(ws.appApiKey) } });
    expect(revoked.statusCode).toBe(204);
    const after = await t.app.inject({ method: 'GET', url: '/api/keys', headers: { authorization: bearer(ws.appApiKey) } });
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ error: { code: 'auth.invalid', field: 'authorization' } });
  });

  it('cannot touch another workspace\'s keys', async () => {
    const a = await t.workspace('A');
    const b = await t.workspace('B');
    const bKeys = await t.services.workspaces.listKeys(b.workspaceId);
    const target = bKeys[0]!;
    for (const [method, url] of [['POST', `/api/keys/${target.id}/rotate`], ['DELETE', `/api/keys/${target.id}`]] as const) {
      const res = await t.app.inject({ method, url, headers: { authorization: bearer(a.appApiKey) } });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'key.not_found' } });
    }
    expect((await t.services.workspaces.listKeys(b.workspaceId)).every((k) => k.revokedAt === null)).toBe(true);
  });

  it('answers unknown keys and missing auth with 401 and a code', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/keys', headers: { authorization: bearer('tdm_app_nope') } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'auth.invalid' } });
    const none = await t.app.inject({ method: 'GET', url: '/api/keys' });
    expect(none.json()).toMatchObject({ error: { code: 'auth.missing', field: 'authorization' } });
  });

  it('caps active API keys per workspace: workspace.limit_reached, and room again after a revoke', async () => {
    const ws = await t.workspace('Key cap');
    const auth = { authorization: bearer(ws.appApiKey) };
    const create = () => t.app.inject({ method: 'POST', url: '/api/keys', headers: auth, payload: { kind: 'write', name: 'k' } });
    for (let i = 3; i < MAX_ACTIVE_KEYS; i++) expect((await create()).statusCode).toBe(201);
    const refused = await create();
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ error: { code: 'workspace.limit_reached', field: 'kind' } });
    const keys = (await t.app.inject({ method: 'GET', url: '/api/keys', headers: auth })).json<{ keys: Array<{ id: string; name: string; revokedAt: string | null }> }>().keys;
    expect(keys.filter((k) => !k.revokedAt)).toHaveLength(MAX_ACTIVE_KEYS);
    const extra = keys.find((k) => k.name === 'k')!;
    expect((await t.app.inject({ method: 'DELETE', url: `/api/keys/${extra.id}`, headers: auth })).statusCode).toBeLessThan(300);
    expect((await create()).statusCode).toBe(201);
  }, 60_000);
});
