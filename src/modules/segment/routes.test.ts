import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';

describe('Segment HTTP Tracking API: endpoints, validation, limits, auth', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  beforeAll(async () => {
    t = await createTestTandem();
    ws = await t.workspace('Segment');
  });
  afterAll(async () => { await t.close(); });

  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST', url, headers: { authorization: basic(ws.writeKey), 'content-type': 'application/json', ...headers },
      payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });

  const eventsOf = (messageIds: string[]) => t.services.db.selectFrom('events').selectAll()
    .where('workspace_id', '=', ws.workspaceId).where('message_id', 'in', messageIds).orderBy('id').execute();

  it('accepts every call type and answers {"success": true}', async () => {
    const calls: Array<[string, Record<string, unknown>]> = [
      ['identify', { userId: 'u-all', traits: { plan: 'pro' }, messageId: 'all-1' }],
      ['track', { userId: 'u-all', event: 'Signed Up', properties: { a: 1 }, messageId: 'all-2' }],
      ['page', { userId: 'u-all', name: 'Home', properties: { path: '/' }, messageId: 'all-3' }],
      ['screen', { userId: 'u-all', name: 'Settings', messageId: 'all-4' }],
      ['group', { userId: 'u-all', groupId: 'acme', traits: { name: 'Acme' }, messageId: 'all-5' }],
      ['alias', { userId: 'u-all', previousId: 'anon-all', messageId: 'all-6' }],
    ];
    for (const [kind, body] of calls) {
      const res = await post(`/v1/${kind}`, body);
      expect(res.statusCode, kind).toBe(200);
      expect(res.json()).toEqual({ success: true });
    }
    for (const path of ['/v1/batch', '/v1/import']) {
      const res = await post(path, { batch: [{ type: 'track', userId: 'u-all', event: 'Batched', messageId: `all-${path}` }] });
      expect(res.json()).toEqual({ success: true });
    }
    const rows = await eventsOf(['all-1', 'all-2', 'all-3', 'all-4', 'all-5', 'all-6', 'all-/v1/batch', 'all-/v1/import']);
    expect(rows.map((r) => [r.type, r.name, r.source])).toEqual([
      ['identify', null, 'segment'], ['track', 'Signed Up', 'segment'], ['page', 'Home', 'segment'],
      ['screen', 'Settings', 'segment'], ['group', null, 'segment'], ['alias', null, 'segment'],
      ['track', 'Batched', 'segment'], ['track', 'Batched', 'segment'],
    ]);
    expect(rows[1]?.properties).toEqual({ a: 1 });
    expect(rows.every((r) => r.context.ip === '127.0.0.1')).toBe(true);
  });

  it.each([
    ['/v1/track', { event: 'x' }, 'event.missing_identity', 'userId'],
    ['/v1/identify', { userId: null, anonymousId: '' }, 'event.missing_identity', 'userId'],
    ['/v1/track', { userId: 'u' }, 'request.invalid', 'event'],
    ['/v1/track', { userId: 'u', event: 5 }, 'request.invalid', 'event'],
    ['/v1/group', { userId: 'u' }, 'request.invalid', 'groupId'],
    ['/v1/alias', { userId: 'u' }, 'request.invalid', 'previousId'],
    ['/v1/alias', { anonymousId: 'a', previousId: 'p' }, 'event.missing_identity', 'userId'],
    ['/v1/identify', { userId: 'u', traits: [1] }, 'request.invalid', 'traits'],
    ['/v1/track', { userId: 'u', event: 'e', properties: 'x' }, 'request.invalid', 'properties'],
    ['/v1/page', { userId: 'u', context: 3 }, 'request.invalid', 'context'],
    ['/v1/track', { userId: 'u', event: 'e', timestamp: 'last week' }, 'request.invalid', 'timestamp'],
    ['/v1/track', { userId: 'u', event: 'e', sentAt: 17 }, 'request.invalid', 'sentAt'],
    ['/v1/screen', { userId: 'u', originalTimestamp: '2025-02-30' }, 'request.invalid', 'originalTimestamp'],
    ['/v1/identify', { userId: { id: 1 } }, 'request.invalid', 'userId'],
    ['/v1/identify', [{ userId: 'u' }], 'request.invalid', 'body'],
    ['/v1/batch', { batch: {} }, 'request.invalid', 'batch'],
    ['/v1/batch', { batch: [{ userId: 'u', event: 'e' }] }, 'request.invalid', 'batch[0].type'],
    ['/v1/batch', { batch: [{ type: 'track', userId: 'u', event: 'e' }, { type: 'track', userId: 'u', event: 'e' },
      { type: 'identify', userId: 'u' }, { type: 'track', event: 'e' }] }, 'event.missing_identity', 'batch[3].userId'],
    ['/v1/batch', { batch: [{ type: 'group', userId: 'u', groupId: '' }] }, 'request.invalid', 'batch[0].groupId'],
  ])('%s %j -> 400 %s at %s', async (url, body, code, field) => {
    const res = await post(url, body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ success: false, code, field });
  });

  it('stores nothing from a batch with one invalid event', async () => {
    const res = await post('/v1/batch', { batch: [
      { type: 'identify', userId: 'atomic', traits: { x: 1 }, messageId: 'atomic-1' },
      { type: 'track', userId: 'atomic', event: 'ok', messageId: 'atomic-2' },
      { type: 'track', userId: 'atomic', messageId: 'atomic-3' },
    ] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'request.invalid', field: 'batch[2].event' });
    expect(await eventsOf(['atomic-1', 'atomic-2', 'atomic-3'])).toHaveLength(0);
    const person = await t.services.db.selectFrom('people').select('id')
      .where('workspace_id', '=', ws.workspaceId).where('external_id', '=', 'atomic').executeTakeFirst();
    expect(person).toBeUndefined();
  });

  it('limits a single call to 32 KB and a batch to 500 KB (and each batched event to 32 KB)', async () => {
    const big = (bytes: number) => 'x'.repeat(bytes);
    const single = await post('/v1/track', { userId: 'u', event: 'e', properties: { s: big(33 * 1024) } });
    expect(single.statusCode).toBe(400);
    expect(single.json()).toMatchObject({ success: false, code: 'event.too_large' });
    const fits = await post('/v1/track', { userId: 'u', event: 'e', properties: { s: big(31 * 1024) }, messageId: 'fits' });
    expect(fits.statusCode).toBe(200);

    const items = (n: number, size: number) => Array.from({ length: n }, (_, i) =>
      ({ type: 'track', userId: 'u', event: 'e', properties: { s: big(size) }, messageId: `lim-${n}-${i}` }));
    const batch = await post('/v1/batch', { batch: items(17, 30 * 1024) });
    expect(batch.statusCode).toBe(400);
    expect(batch.json()).toMatchObject({ code: 'batch.too_large' });
    const okBatch = await post('/v1/batch', { batch: items(15, 30 * 1024) });
    expect(okBatch.statusCode).toBe(200);
    expect(await eventsOf(items(15, 0).map((i) => i.messageId))).toHaveLength(15);

    const oneBig = await post('/v1/batch', { batch: [{ type: 'track', userId: 'u', event: 'e', messageId: 'big-0' },
      { type: 'track', userId: 'u', event: 'e', properties: { s: big(33 * 1024) }, messageId: 'big-1' }] });
    expect(oneBig.statusCode).toBe(400);
    expect(oneBig.json()).toMatchObject({ code: 'event.too_large', field: 'batch[1]' });
    expect(await eventsOf(['big-0', 'big-1'])).toHaveLength(0);
  });

  it('authenticates with Basic auth or writeKey in the body', async () => {
    const bad = await post('/v1/track', { userId: 'u', event: 'e' }, { authorization: basic('tdm_wk_nope') });
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toMatchObject({ success: false, code: 'auth.invalid', field: 'authorization' });
    const none = await t.app.inject({ method: 'POST', url: '/v1/track', payload: { userId: 'u', event: 'e' } });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ code: 'auth.missing' });
    const inBody = await t.app.inject({ method: 'POST', url: '/v1/track',
      payload: { writeKey: ws.writeKey, userId: 'u', event: 'e', messageId: 'body-key' } });
    expect(inBody.statusCode).toBe(200);
    expect(await eventsOf(['body-key'])).toHaveLength(1);
  });

  it('accepts JSON sent as text/plain (analytics.js) and rejects invalid JSON', async () => {
    const plain = await t.app.inject({ method: 'POST', url: '/v1/page', headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify({ writeKey: ws.writeKey, anonymousId: 'a', name: 'P', messageId: 'plain' }) });
    expect(plain.statusCode).toBe(200);
    expect(await eventsOf(['plain'])).toHaveLength(1);
    for (const type of ['application/json', 'text/plain']) {
      const res = await post('/v1/track', '{"userId": "u", "event": ', { 'content-type': type });
      expect(res.statusCode, type).toBe(400);
      expect(res.json()).toMatchObject({ success: false, code: 'request.invalid_json', field: 'body' });
    }
  });

  it('accepts gzip bodies and refuses corrupt or unknown encodings', async () => {
    const body = gzipSync(JSON.stringify({ batch: [{ type: 'track', userId: 'u', event: 'Zipped', messageId: 'gz-1' }] }));
    const ok = await post('/v1/batch', body, { 'content-encoding': 'gzip' });
    expect(ok.statusCode).toBe(200);
    expect(await eventsOf(['gz-1'])).toHaveLength(1);
    const corrupt = await post('/v1/track', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
    expect(corrupt.statusCode).toBe(400);
    expect(corrupt.json()).toMatchObject({ code: 'request.invalid_encoding' });
    const br = await post('/v1/track', Buffer.from('{}'), { 'content-encoding': 'br' });
    expect(br.statusCode).toBe(415);
    expect(br.json()).toMatchObject({ code: 'request.unsupported_media_type', field: 'content-encoding' });
    // The 32 KB limit counts decompressed bytes: a small zip bomb is still too large.
    const bomb = gzipSync(JSON.stringify({ userId: 'u', event: 'e', properties: { s: 'x'.repeat(100 * 1024) } }));
    expect(bomb.length).toBeLessThan(32 * 1024);
    const res = await post('/v1/track', bomb, { 'content-encoding': 'gzip' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'event.too_large' });
  });

  it('answers CORS preflights and marks responses for any origin', async () => {
    const pre = await t.app.inject({ method: 'OPTIONS', url: '/v1/batch',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' } });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    // Header names are case-insensitive; the browser library's own (X-Retry-Count) are allowed when asked for.
    expect(String(pre.headers['access-control-allow-headers']).toLowerCase()).toBe('content-type, authorization');
    expect(String(pre.headers['access-control-allow-methods'])).toContain('POST');
    const ok = await post('/v1/track', { userId: 'u', event: 'e' }, { origin: 'https://shop.example' });
    expect(ok.headers['access-control-allow-origin']).toBe('*');
    const err = await post('/v1/track', { userId: 'u' }, { origin: 'https://shop.example' });
    expect(err.statusCode).toBe(400);
    expect(err.headers['access-control-allow-origin']).toBe('*');
  });

  it('counts requests and events in the metrics', async () => {
    const before = await t.services.metrics.registry.getSingleMetricAsString('tandem_ingest_events_total');
    const count = (text: string, outcome: string) =>
      Number(new RegExp(`tandem_ingest_events_total\\{source="segment",outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    await post('/v1/batch', { batch: [
      { type: 'track', userId: 'm', event: 'e', messageId: 'metric-1' },
      { type: 'track', userId: 'm', event: 'e', messageId: 'metric-1' },
    ] });
    const after = await t.services.metrics.registry.getSingleMetricAsString('tandem_ingest_events_total');
    expect(count(after, 'stored') - count(before, 'stored')).toBe(1);
    expect(count(after, 'duplicate') - count(before, 'duplicate')).toBe(1);
    const requests = await t.services.metrics.registry.getSingleMetricAsString('tandem_ingest_requests_total');
    expect(requests).toMatch(/tandem_ingest_requests_total\{source="segment",status="2xx"\} [1-9]/);
    expect(requests).toMatch(/tandem_ingest_requests_total\{source="segment",status="4xx"\} [1-9]/);
  });
});
