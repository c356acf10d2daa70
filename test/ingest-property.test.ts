// Property tests of ingestion through the Segment routes: no input yields a 5xx, an accepted event
// is never lost, a rejected batch stores nothing, and a messageId is stored once.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestTandem, type TestTandem } from './harness.ts';
import type { CreatedWorkspace } from '../src/modules/workspaces/index.ts';

const KINDS = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
const ROUTES = [...KINDS.map((k) => `/v1/${k}`), '/v1/batch', '/v1/import'];

// Strings PostgreSQL cannot store as-is (NUL, unpaired surrogates) next to ordinary ones.
const nasty = fc.constantFrom('\u0000', '\ud800', 'a\udc00b', '😀', '', ' ', '__proto__', 'constructor', 'x'.repeat(600));
const text = fc.oneof({ weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) }, { weight: 1, arbitrary: nasty });
const json = fc.jsonValue({ maxDepth: 3 });
const objectish = fc.dictionary(text, fc.oneof(json, text), { maxKeys: 4 });
const anyValue = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), objectish, fc.array(json, { maxLength: 3 }));
const dateText = fc.oneof(
  { weight: 8, arbitrary: fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true })
    .map((d) => d.toISOString()) },
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2025-01-01', '2025-01-01T10:00:00+05:30', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', 'tomorrow', '2025-02-30'),
);

/** Mostly plausible values, sometimes anything at all. */
const mostly = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 30, arbitrary: good }, { weight: 1, arbitrary: anyValue });
const idValue = mostly(fc.oneof(fc.constantFrom('u1', 'u2', 'u3', 'a1', 'a2'), text, fc.integer()));

const eventArb = fc.record({
  type: mostly(fc.constantFrom(...KINDS)),
  userId: fc.option(idValue),
  anonymousId: fc.option(idValue),
  event: mostly(text),
  name: fc.option(mostly(text)),
  category: fc.option(mostly(text)),
  groupId: mostly(idValue),
  previousId: mostly(idValue),
  traits: fc.option(mostly(objectish)),
  properties: fc.option(mostly(objectish)),
  context: fc.option(mostly(objectish)),
  timestamp: fc.option(mostly(dateText)),
  originalTimestamp: fc.option(mostly(dateText)),
  sentAt: fc.option(mostly(dateText)),
}, { requiredKeys: [] });

describe('Segment ingestion properties', () => {
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let seq = 0;
  beforeAll(async () => {
    t = await createTestTandem();
    ws = await t.workspace('Properties');
  });
  afterAll(async () => { await t.close(); });

  const post = (url: string, payload: string, contentType = 'application/json') => t.app.inject({
    method: 'POST', url, payload, headers: { authorization: basic(ws.writeKey), 'content-type': contentType },
  });

  async function storedCount(messageIds: string[]): Promise<Map<string, number>> {
    const rows = messageIds.length === 0 ? [] : await t.services.db.selectFrom('events').select('message_id')
      .where('workspace_id', '=', ws.workspaceId).where('message_id', 'in', messageIds).execute();
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.message_id!, (counts.get(r.message_id!) ?? 0) + 1);
    return counts;
  }

  it('answers any JSON body on any route with a 2xx or 4xx', async () => {
    const body = fc.oneof(
      fc.json({ maxDepth: 4 }),
      fc.anything({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
      fc.record({ batch: fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 4 }) }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 40 }),
    );
    await fc.assert(fc.asyncProperty(fc.constantFrom(...ROUTES), body, fc.constantFrom('application/json', 'text/plain'),
      async (route, payload, type) => {
        const res = await post(route, payload, type);
        expect(res.statusCode, res.body).toBeLessThan(500);
        expect(res.statusCode === 200 || res.statusCode === 400 || res.statusCode === 401).toBe(true);
      }), { numRuns: 150 });
  });

  it('stores every event it accepts, and nothing from a request it rejects', async () => {
    const request = fc.oneof(
      fc.tuple(fc.constantFrom(...KINDS.map((k) => `/v1/${k}`)), eventArb).map(([route, e]) => ({ route, events: [e] })),
      fc.tuple(fc.constantFrom('/v1/batch', '/v1/import'), fc.array(eventArb, { minLength: 1, maxLength: 6 }))
        .map(([route, events]) => ({ route, events })),
    );
    let accepted = 0;
    await fc.assert(fc.asyncProperty(request, async ({ route, events }) => {
      const messageIds = events.map(() => `p-${++seq}`);
      const calls = events.map((e, i) => ({ ...e, messageId: messageIds[i] }));
      const payload = JSON.stringify(route.endsWith('batch') || route.endsWith('import') ? { batch: calls } : calls[0]);
      const res = await post(route, payload);
      expect(res.statusCode, res.body).toBeLessThan(500);
      const counts = await storedCount(messageIds);
      if (res.statusCode === 200) {
        accepted++;
        expect(res.json()).toEqual({ success: true });
        for (const id of messageIds) expect(counts.get(id), `${id} of ${payload}`).toBe(1);
      } else {
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ success: false, code: expect.any(String) as string });
        expect(counts.size, payload).toBe(0);
      }
    }), { numRuns: 400 });
    // The generators must reach the database often enough for the property to mean something.
    expect(accepted).toBeGreaterThan(40);
  });

  it('stores each messageId of a batch once, however often it repeats', async () => {
    const valid = fc.record({
      type: fc.constantFrom('track', 'page', 'identify'),
      userId: fc.constantFrom('d1', 'd2', 'd3'),
      event: fc.constantFrom('A', 'B'),
      slot: fc.integer({ min: 0, max: 3 }),
    });
    await fc.assert(fc.asyncProperty(fc.array(valid, { minLength: 1, maxLength: 12 }), fc.boolean(), async (items, twice) => {
      const run = ++seq;
      const batch = items.map(({ slot, ...e }) => ({ ...e, messageId: `d-${run}-${slot}` }));
      const ids = [...new Set(batch.map((e) => e.messageId))];
      for (let i = 0; i < (twice ? 2 : 1); i++) {
        const res = await post('/v1/batch', JSON.stringify({ batch }));
        expect(res.statusCode).toBe(200);
      }
      const counts = await storedCount(ids);
      expect([...counts.values()]).toEqual(ids.map(() => 1));
    }), { numRuns: 60 });
  });
});
