// Segments against hand-built data on a real PostgreSQL: each operator, membership following events,
// attribute changes and time (fake clock), explain, manual lists, exports and bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, FakeClock, type TestTandem } from '../../../test/harness.ts';
import type { IncomingEvent } from '../ingest/index.ts';

const clock = new FakeClock(new Date('2026-06-15T12:00:00.000Z'));
const DAY = 86_400_000;
let t: TestTandem;
let ws: string;
let auth: string;
const ids: Record<string, string> = {};

const at = (daysAgo: number) => new Date(clock.now().getTime() - daysAgo * DAY);
const identify = (userId: string, traits: Record<string, unknown>): IncomingEvent => ({ type: 'identify', userId, traits, timestamp: clock.now() });
const track = (userId: string, name: string, daysAgo = 0, properties: Record<string, unknown> = {}): IncomingEvent => ({ type: 'track', userId, name, properties, timestamp: at(daysAgo) });

async function ingest(events: IncomingEvent[]) {
  await t.services.ingest.ingest(ws, events, { source: 'api' });
}

async function members(definition: unknown): Promise<string[]> {
  const res = await t.app.inject({ method: 'POST', url: '/api/segments/preview', headers: { authorization: auth }, payload: { definition, sample: 100 } });
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json<{ count: number; sample: Array<{ externalId: string }> }>();
  expect(body.sample.length).toBe(body.count);
  return body.sample.map((p) => p.externalId).sort();
}

const attr = (path: string, op: string, extra: Record<string, unknown> = {}) => ({ type: 'attribute', path, op, ...extra });

beforeAll(async () => {
  t = await createTestTandem({ clock });
  const w = await t.workspace();
  ws = w.workspaceId;
  auth = bearer(w.appApiKey);
  await ingest([
    identify('ann', { email: 'ann@example.com', plan: 'pro', age: 34, tags: ['vip', 'beta'], trial_end: '2026-06-17', company: { size: 50 }, score: '12.5' }),
    identify('bob', { email: 'bob@example.com', plan: 'free', age: 19, tags: ['beta'], trial_end: '2026-07-30T00:00:00Z', nickname: 'Bobby' }),
    identify('cat', { plan: 'business', age: '41', trial_end: '2026-02-30', signup: 1781000000 }),
    identify('dan', { email: 'dan@example.com', plan: null, nickname: '=HYPERLINK("x")' }),
    track('ann', 'feature_used', 1, { feature: 'export' }), track('ann', 'feature_used', 2, { feature: 'export' }),
    track('ann', 'feature_used', 3, { feature: 'export' }), track('ann', 'feature_used', 20, { feature: 'export' }),
    track('bob', 'feature_used', 1, { feature: 'share' }), track('bob', 'invited_teammate', 5),
    track('cat', 'purchase', 40, { amount: 10 }), track('cat', 'purchase', 3, { amount: 99 }),
    track('dan', 'purchase', 5, { amount: 5 }),
  ]);
  for (const u of ['ann', 'bob', 'cat', 'dan']) ids[u] = await t.services.peopleQuery.resolveId(ws, u, 'userId');
});
afterAll(async () => t?.close());

describe('attribute operators', () => {
  it.each([
    [attr('plan', 'equals', { value: 'pro' }), ['ann']],
    [attr('plan', 'not_equals', { value: 'pro' }), ['bob', 'cat', 'dan']],
    [attr('plan', 'equals', { value: null }), ['dan']],
    [attr('nickname', 'contains', { value: 'obb' }), ['bob']],
    [attr('tags', 'contains', { value: 'vip' }), ['ann']],
    [attr('tags', 'not_contains', { value: 'vip' }), ['bob', 'cat', 'dan']],
    [attr('nickname', 'starts_with', { value: 'Bo' }), ['bob']],
    [attr('plan', 'exists'), ['ann', 'bob', 'cat']],
    [attr('plan', 'not_exists'), ['dan']],
    [attr('age', 'gt', { value: 30 }), ['ann', 'cat']],
    [attr('age', 'gte', { value: 34 }), ['ann', 'cat']],
    [attr('age', 'lt', { value: 34 }), ['bob']],
    [attr('age', 'lte', { value: 19 }), ['bob']],
    [attr('score', 'between', { values: [12, 13] }), ['ann']],
    [attr('plan', 'in', { values: ['pro', 'business'] }), ['ann', 'cat']],
    [attr('plan', 'not_in', { values: ['pro', 'business'] }), ['bob', 'dan']],
    [attr('company.size', 'gte', { value: 50 }), ['ann']],
    [attr('email', 'exists'), ['ann', 'bob', 'dan']],
    [attr('trial_end', 'within_next', { amount: 3, unit: 'days' }), ['ann']],
    [attr('trial_end', 'after', { value: '2026-07-01' }), ['bob']],
    [attr('trial_end', 'before', { value: '2026-07-01' }), ['ann']], // cat's 2026-02-30 is no date: never before or after
    [attr('signup', 'within_last', { amount: 30, unit: 'days' }), ['cat']], // unix seconds
    [attr('trial_end', 'between', { values: ['2026-06-01', '2026-06-17'] }), ['ann']],
    [attr('trial_end', 'between', { values: ['2026-06-17', '2026-06-01'] }), []],
  ])('%j', async (def, expected) => {
    expect(await members(def)).toEqual(expected);
  });
});

describe('event conditions', () => {
  const ev = (extra: Record<string, unknown>) => ({ type: 'event', name: 'feature_used', ...extra });
  it.each([
    [ev({}), ['ann', 'bob']],
    [ev({ performed: false }), ['cat', 'dan']],
    [ev({ where: [{ path: 'feature', op: 'equals', value: 'export' }], count: { op: 'at_least', value: 3 }, within: { last: 7, unit: 'days' } }), ['ann']],
    [ev({ count: { op: 'at_most', value: 1 } }), ['bob', 'cat', 'dan']],
    [ev({ count: { op: 'exactly', value: 4 } }), ['ann']],
    [ev({ count: { op: 'exactly', value: 0 } }), ['cat', 'dan']],
    [ev({ within: { from: '2026-05-20', to: '2026-05-27' } }), ['ann']],
    [{ type: 'event', name: 'purchase', occurrence: 'first', within: { last: 7, unit: 'days' } }, ['dan']],
    [{ type: 'event', name: 'purchase', occurrence: 'last', within: { last: 7, unit: 'days' } }, ['cat', 'dan']],
    [{ type: 'event', name: 'purchase', where: [{ path: 'amount', op: 'gt', value: 50 }] }, ['cat']],
    // "used export at least 3 times in the last 7 days but never invited a teammate"
    [{ type: 'and', conditions: [ev({ where: [{ path: 'feature', op: 'equals', value: 'export' }], count: { op: 'at_least', value: 3 }, within: { last: 7, unit: 'days' } }), { type: 'not', condition: { type: 'event', name: 'invited_teammate' } }] }, ['ann']],
    [{ type: 'or', conditions: [attr('plan', 'equals', { value: 'free' }), { type: 'event', name: 'purchase', within: { last: 4, unit: 'days' } }] }, ['bob', 'cat']],
    [{ type: 'not', condition: { type: 'or', conditions: [attr('plan', 'equals', { value: 'free' }), ev({})] } }, ['cat', 'dan']],
  ])('%j', async (def, expected) => {
    expect(await members(def)).toEqual(expected);
  });
});

describe('reachability, topics, groups, lists and segments', () => {
  it('reads the suppression list, topic states, related objects and other segments', async () => {
    expect(await members({ type: 'reachability', check: 'has_email' })).toEqual(['ann', 'bob', 'dan']);
    await t.services.consent.suppress(ws, 'email', 'bob@example.com', 'hard_bounce', 'bounce');
    expect(await members({ type: 'reachability', check: 'email_not_suppressed' })).toEqual(['ann', 'dan']);

    await t.services.consent.createTopic(ws, { key: 'news', name: 'News', default: 'opt_out', channel: 'email' });
    await t.services.consent.setConsent(ws, ids.ann!, { topics: { news: false } }, { source: 'api' });
    expect(await members({ type: 'topic', topic: 'news', state: 'unsubscribed' })).toEqual(['ann']);
    expect(await members({ type: 'topic', topic: 'news' })).toEqual(['bob', 'cat', 'dan']);

    await ingest([{ type: 'group', userId: 'cat', groupId: 'acme', traits: { plan: 'enterprise' }, timestamp: clock.now() }]);
    expect(await members({ type: 'group', objectType: 'group', path: 'plan', op: 'equals', value: 'enterprise' })).toEqual(['cat']);

    const list = await t.app.inject({ method: 'POST', url: '/api/segments', headers: { authorization: auth }, payload: { key: 'vip-list', name: 'VIPs' } });
    expect(list.statusCode, list.body).toBe(201);
    expect(list.json()).toMatchObject({ kind: 'manual', status: 'ready' });
    const add = await t.app.inject({ method: 'POST', url: '/api/segments/vip-list/members', headers: { authorization: auth }, payload: { add: ['ann', 'dan'], by: 'userId' } });
    expect(add.json()).toEqual({ added: 2, removed: 0 });
    expect(await members({ type: 'segment', segment: 'vip-list' })).toEqual(['ann', 'dan']);
    expect(await members({ type: 'segment', segment: 'vip-list', member: false })).toEqual(['bob', 'cat']);
  });
});

describe('membership', () => {
  it('rebuilds on a changed definition only, not on a renamed segment (keys in any order)', async () => {
    await t.services.segments.create(ws, { key: 'renamed', name: 'Before', definition: { type: 'attribute', path: 'plan', op: 'equals', value: 'pro' } });
    await t.services.segments.rebuild(ws, 'renamed');
    const renamed = await t.services.segments.update(ws, 'renamed', { key: 'renamed', name: 'After', definition: { value: 'pro', op: 'equals', path: 'plan', type: 'attribute' } });
    expect(renamed).toMatchObject({ name: 'After', status: 'ready' });
    const changed = await t.services.segments.update(ws, 'renamed', { key: 'renamed', name: 'After', definition: { type: 'attribute', path: 'plan', op: 'equals', value: 'free' } });
    expect(changed.status).toBe('building');
  });

  it('follows events, attribute changes and the passing of time, recording entries and exits', async () => {
    const def = { type: 'and', conditions: [attr('plan', 'in', { values: ['pro', 'free'] }), { type: 'event', name: 'login', within: { last: 2, unit: 'days' } }] };
    const res = await t.app.inject({ method: 'POST', url: '/api/segments', headers: { authorization: auth }, payload: { key: 'active', name: 'Active', definition: def } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ kind: 'dynamic', status: 'building', timeBased: true, dependsOn: { events: ['login'] } });
    await t.services.segments.rebuild(ws, 'active');
    const member = async (u: string) => (await t.services.segments.explain(ws, { segment: 'active' }, ids[u]!)).stored;

    await ingest([track('ann', 'login', 0), track('cat', 'login', 0)]);
    expect(await t.services.segments.membership.drain()).toBeGreaterThan(0);
    expect(await member('ann')).toBe(true);
    expect(await member('cat')).toBe(false); // plan business

    await ingest([identify('cat', { plan: 'pro' })]);
    await t.services.segments.membership.drain();
    expect(await member('cat')).toBe(true);

    clock.advance(3 * DAY); // the logins leave the 2-day window
    await t.services.segments.membership.tick();
    expect(await member('ann')).toBe(false);
    expect(await member('cat')).toBe(false);

    const changes = await t.app.inject({ method: 'GET', url: '/api/segments/active/changes', headers: { authorization: auth } });
    const rows = changes.json<{ changes: Array<{ personId: string; change: string; reason: string }> }>().changes;
    expect(rows.map((r) => [r.personId === ids.ann ? 'ann' : 'cat', r.change, r.reason]).reverse()).toEqual([
      ['ann', 'entered', 'event'], ['cat', 'entered', 'attributes'], expect.anything(), expect.anything(),
    ]);
    expect(rows.slice(0, 2).every((r) => r.change === 'exited' && r.reason === 'time')).toBe(true);
  });

  it('explains, condition by condition, why a person is in or out', async () => {
    const def = { type: 'and', conditions: [attr('plan', 'equals', { value: 'pro' }), { type: 'event', name: 'feature_used', count: { op: 'at_least', value: 3 } }] };
    const res = await t.app.inject({ method: 'POST', url: '/api/segments/explain', headers: { authorization: auth }, payload: { definition: def, person: 'bob', by: 'userId' } });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ member: boolean; tree: { result: boolean; children: Array<{ label: string; result: boolean; found: string }> } }>();
    expect(body.member).toBe(false);
    expect(body.tree.children.map((c) => [c.label, c.result, c.found])).toEqual([
      ['plan equals "pro"', false, '"free"'],
      ['performed "feature_used" at least 3 times', false, expect.stringContaining('1 "feature_used" event(s)')],
    ]);
  });
});

describe('export and bad input', () => {
  it('exports members as formula-safe CSV and as NDJSON', async () => {
    await t.app.inject({ method: 'POST', url: '/api/segments', headers: { authorization: auth }, payload: { key: 'dans', name: 'Dan', kind: 'manual' } });
    await t.app.inject({ method: 'POST', url: '/api/segments/dans/members', headers: { authorization: auth }, payload: { add: ['dan'], by: 'userId' } });
    const csv = await t.app.inject({ method: 'GET', url: '/api/segments/dans/export?format=csv&attributes=nickname', headers: { authorization: auth } });
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('person_id,id,email,phone,entered_at,nickname');
    expect(lines[1]).toContain(`,"'=HYPERLINK(""x"")"`);
    const nd = await t.app.inject({ method: 'GET', url: '/api/segments/dans/export?format=ndjson', headers: { authorization: auth } });
    expect(nd.body.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(['dan']);
  });

  it.each([
    [{ type: 'attribute', path: 'age', op: 'gt', value: 'x' }, 'definition.value'],
    [{ type: 'and', conditions: [{ type: 'nope' }] }, 'definition.conditions[0].type'],
    [{ type: 'event', name: 'x', occurrence: 'first' }, 'definition.within'],
  ])('refuses %j with request.invalid at %s', async (definition, field) => {
    const res = await t.app.inject({ method: 'POST', url: '/api/segments/preview', headers: { authorization: auth }, payload: { definition } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'request.invalid', field } });
  });

  it('refuses unknown references and cycles with their field', async () => {
    const unknown = await t.app.inject({ method: 'POST', url: '/api/segments/preview', headers: { authorization: auth }, payload: { definition: { type: 'and', conditions: [{ type: 'topic', topic: 'nope' }] } } });
    expect(unknown.json()).toMatchObject({ error: { code: 'segment.unknown_reference', field: 'definition.conditions[0]' } });
    await t.app.inject({ method: 'POST', url: '/api/segments', headers: { authorization: auth }, payload: { key: 'a', name: 'A', definition: attr('plan', 'exists') } });
    await t.app.inject({ method: 'POST', url: '/api/segments', headers: { authorization: auth }, payload: { key: 'b', name: 'B', definition: { type: 'segment', segment: 'a' } } });
    const cycle = await t.app.inject({ method: 'PUT', url: '/api/segments/a', headers: { authorization: auth }, payload: { key: 'a', name: 'A', definition: { type: 'segment', segment: 'b' } } });
    expect(cycle.statusCode).toBe(400);
    expect(cycle.json()).toMatchObject({ error: { code: 'segment.cycle' } });
    const del = await t.app.inject({ method: 'DELETE', url: '/api/segments/a', headers: { authorization: auth } });
    expect(del.json()).toMatchObject({ error: { code: 'segment.in_use' } });
    const dup = await t.app.inject({ method: 'POST', url: '/api/segments', headers: { authorization: auth }, payload: { key: 'a', name: 'A2' } });
    expect(dup.json()).toMatchObject({ error: { code: 'segment.key_taken', field: 'key' } });
  });
});
