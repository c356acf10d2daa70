// The catalog is bounded: distinct event types and properties per type stop at configured caps
// (events beyond them are still stored), GET /api/event-types pages, and the API warns when a cap is hit.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';

const at = new Date('2026-01-02T03:04:05.000Z');

describe('catalog limits and pagination', () => {
  let t: TestTandem;
  let w: CreatedWorkspace;
  beforeAll(async () => {
    t = await createTestTandem();
    w = await t.workspace('Catalog limits');
  });
  afterAll(async () => { await t.close(); });

  it('pages GET /api/event-types: 1,000 names, timed', async () => {
    for (let b = 0; b < 10; b++) {
      await t.services.ingest.ingest(w.workspaceId, Array.from({ length: 100 }, (_, i) => ({
        type: 'track' as const, userId: 'u1', name: `Event ${String(b * 100 + i).padStart(4, '0')}`,
        properties: { plan: 'pro', amount: i, nested: { a: 1, b: 'x' }, tags: ['a'] }, timestamp: at,
      })), { source: 'api' });
    }
    const get = (qs = '') => t.app.inject({ method: 'GET', url: `/api/event-types${qs}`, headers: { authorization: bearer(w.appApiKey) } });
    let started = performance.now();
    const first = await get();
    const pageMs = performance.now() - started;
    expect(first.statusCode).toBe(200);
    const body = first.json<{ eventTypes: Array<{ name: string; properties: unknown[] }>; nextCursor: string | null; warnings: Array<{ code: string }> }>();
    expect(body.eventTypes).toHaveLength(100);
    expect(body.eventTypes[0]!.properties).toHaveLength(6); // plan, amount, nested, nested.a, nested.b, tags
    // 1,000 is also the default cap: the catalog is full, and says so.
    expect(body.warnings).toEqual([expect.objectContaining({ code: 'catalog.event_types_full' })]);
    // The whole catalog through the cursor: every name once, in order.
    started = performance.now();
    const names: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      const page = res.json<{ eventTypes: Array<{ name: string }>; nextCursor: string | null }>();
      names.push(...page.eventTypes.map((e) => e.name));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    const walkMs = performance.now() - started;
    console.log(`catalog: 1,000 names: first page (100) ${pageMs.toFixed(0)} ms, ${first.body.length} bytes; all ${pages} pages of 500: ${walkMs.toFixed(0)} ms`);
    expect(names).toEqual(Array.from({ length: 1000 }, (_, i) => `Event ${String(i).padStart(4, '0')}`));
    expect((await get('?cursor=not-a-cursor!')).json()).toMatchObject({ error: { code: 'request.invalid', field: 'querystring.cursor' } });
    expect((await get('?limit=501')).statusCode).toBe(400);
  }, 120_000);
});

describe('catalog caps', () => {
  let t: TestTandem;
  let w: CreatedWorkspace;
  beforeAll(async () => {
    t = await createTestTandem({ config: { catalogMaxEventTypes: 5, catalogMaxProperties: 3 } });
    w = await t.workspace('Catalog caps');
  });
  afterAll(async () => { await t.close(); });

  it('stores every event, catalogues up to the caps, and says so in the API', async () => {
    const track = (name: string, properties: Record<string, unknown>) => ({ type: 'track' as const, userId: 'u1', name, properties, timestamp: at });
    await t.services.ingest.ingest(w.workspaceId, [track('A', { p1: 1, p2: 2, p3: 3, p4: 4, p5: 5 }), track('B', {}), track('C', {})], { source: 'api' });
    // Later batches (and a fresh process cache) bring new names beyond the cap of 5.
    t.services.catalog.resetCache();
    await t.services.ingest.ingest(w.workspaceId, ['D', 'E', 'F', 'G', 'H'].map((n) => track(n, { x: 1 })), { source: 'api' });
    await t.services.ingest.ingest(w.workspaceId, [track('I', {}), track('A', { p6: 6 })], { source: 'api' });

    const events = await sql<{ n: string }>`SELECT count(*) AS n FROM events WHERE workspace_id = ${w.workspaceId} AND type = 'track'`.execute(t.services.db);
    expect(Number(events.rows[0]!.n)).toBe(10);
    const res = await t.app.inject({ method: 'GET', url: '/api/event-types?type=track', headers: { authorization: bearer(w.appApiKey) } });
    const body = res.json<{ eventTypes: Array<{ name: string; properties: Array<{ path: string }> }>; warnings: Array<{ code: string; name?: string }> }>();
    expect(body.eventTypes.map((e) => e.name)).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(body.eventTypes[0]!.properties.map((p) => p.path)).toEqual(['p1', 'p2', 'p3']);
    expect(body.warnings.map((x) => [x.code, x.name])).toEqual([['catalog.event_types_full', undefined], ['catalog.properties_full', 'A']]);
  });
});
