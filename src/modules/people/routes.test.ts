import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, FakeClock, type TestTandem } from '../../../test/harness.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';

interface PersonJson {
  id: string; userId: string | null; email: string | null; identified: boolean; attributes: Record<string, unknown>;
  createdAt: string; identifiers?: { userIds: string[]; anonymousIds: string[] };
}
interface EventJson { id: string; type: string; name: string | null; timestamp: string; properties: Record<string, unknown> }
interface ErrorJson { error: { code: string; field?: string } }

describe('people REST API', () => {
  const clock = new FakeClock(new Date('2026-03-01T12:00:00.000Z'));
  let t: TestTandem;
  let ws: CreatedWorkspace;

  beforeAll(async () => {
    t = await createTestTandem({ clock });
    ws = await t.workspace('People API');
  });
  afterAll(async () => { await t.close(); });

  const get = async <T = unknown>(url: string, key = ws.appApiKey) => {
    const res = await t.app.inject({ method: 'GET', url, headers: { authorization: bearer(key) } });
    return { status: res.statusCode, body: res.json<T>(), raw: res };
  };

  /** Inserts a person with identifiers straight into the tables (created_at as exact text with microseconds). */
  async function seedPerson(p: {
    workspaceId?: string; externalId?: string | null; email?: string | null; identified?: boolean;
    attributes?: Record<string, unknown>; createdAt?: string; anonymousIds?: string[]; extraUserIds?: string[];
  } = {}): Promise<string> {
    const id = randomUUID();
    const workspaceId = p.workspaceId ?? ws.workspaceId;
    const at = p.createdAt ?? '2026-01-01T00:00:00.000000Z';
    await t.services.db.insertInto('people').values({
      workspace_id: workspaceId, id, external_id: p.externalId ?? null, email: p.email ?? null,
      identified: p.identified ?? p.externalId != null, attributes: JSON.stringify(p.attributes ?? {}),
      created_at: at, updated_at: at,
    }).execute();
    const ids = [
      ...(p.externalId ? [{ kind: 'user' as const, value: p.externalId }] : []),
      ...(p.extraUserIds ?? []).map((value) => ({ kind: 'user' as const, value })),
      ...(p.anonymousIds ?? []).map((value) => ({ kind: 'anonymous' as const, value })),
    ];
    if (ids.length) {
      await t.services.db.insertInto('person_identifiers')
        .values(ids.map((i) => ({ workspace_id: workspaceId, person_id: id, ...i }))).execute();
    }
    return id;
  }

  async function seedEvents(personId: string, events: Array<{ type?: 'track' | 'page' | 'identify'; name?: string; timestamp: string; properties?: Record<string, unknown> }>) {
    await t.services.db.insertInto('events').values(events.map((e) => ({
      workspace_id: ws.workspaceId, person_id: personId, type: e.type ?? 'track', name: e.name ?? null,
      properties: JSON.stringify(e.properties ?? {}), context: '{}', source: 'api', timestamp: e.timestamp,
      received_at: e.timestamp,
    }))).execute();
  }

  describe('listing', () => {
    let lws: CreatedWorkspace;
    const original = new Set<string>();

    beforeAll(async () => {
      lws = await t.workspace('List');
      // 120 people; groups of three share a created_at (to the microsecond) so the id breaks ties.
      for (let i = 0; i < 120; i++) {
        const micros = String(Math.floor(i / 3)).padStart(6, '0');
        original.add(await seedPerson({
          workspaceId: lws.workspaceId, externalId: `list-${i}`, email: `list${i}@example.com`,
          createdAt: `2026-01-01T00:00:00.${micros}Z`,
        }));
      }
    });

    it('pages through everyone exactly once, stable when people are added between pages', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/api/people?limit=50${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await get<{ people: PersonJson[]; nextCursor: string | null }>(url, lws.appApiKey);
        expect(res.status).toBe(200);
        pages++;
        seen.push(...res.body.people.map((p) => p.id));
        const createdAts = res.body.people.map((p) => p.createdAt);
        expect([...createdAts].sort().reverse()).toEqual(createdAts);
        cursor = res.body.nextCursor;
        // Newer people arriving mid-listing land before the cursor and must not shift later pages.
        await seedPerson({ workspaceId: lws.workspaceId, email: `late${pages}@example.com`, createdAt: '2026-02-01T00:00:00.000000Z' });
      } while (cursor);
      expect(pages).toBe(3);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((id) => original.has(id)).length).toBe(120);
      expect(seen.length).toBe(120);
    });

    it('defaults to 50 and caps the page size', async () => {
      const res = await get<{ people: PersonJson[]; nextCursor: string | null }>('/api/people', lws.appApiKey);
      expect(res.body.people).toHaveLength(50);
      expect(res.body.nextCursor).not.toBeNull();
      for (const bad of ['0', '501', 'abc', '2.5']) {
        const r = await get<ErrorJson>(`/api/people?limit=${bad}`, lws.appApiKey);
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe('request.invalid');
        expect(r.body.error.field).toContain('limit');
      }
    });

    it('answers a malformed cursor with 400 request.invalid on field cursor', async () => {
      const forged = [
        'not a cursor', 'bm9wZQ', Buffer.from('["2026-13-01T00:00:00Z","x"]').toString('base64url'),
        Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000000Z', 'not-a-uuid'])).toString('base64url'),
        Buffer.from(JSON.stringify(['2026-02-30T00:00:00Z', randomUUID()])).toString('base64url'),
      ];
      for (const c of forged) {
        const r = await get<ErrorJson>(`/api/people?cursor=${encodeURIComponent(c)}`, lws.appApiKey);
        expect(r.status).toBe(400);
        expect(r.body.error).toMatchObject({ code: 'request.invalid', field: 'cursor' });
      }
    });
  });

  describe('search and filters', () => {
    let alice: string; let bob: string; let anon: string;
    beforeAll(async () => {
      alice = await seedPerson({ externalId: 'user-alice', email: 'Alice@Example.com', attributes: { name: 'Alice Liddell', plan: 'pro' }, extraUserIds: ['old-alice'] });
      bob = await seedPerson({ externalId: 'user-bob', email: 'bob@example.org', attributes: { name: 'Bob 100%' } });
      anon = await seedPerson({ identified: false, anonymousIds: ['anon-xyz-1'] });
    });
    const ids = async (qs: string) => (await get<{ people: PersonJson[] }>(`/api/people?${qs}`)).body.people.map((p) => p.id);

    it('q matches email, userId and attribute values case-insensitively, and exact anonymous ids', async () => {
      expect(await ids('q=alice%40example')).toEqual([alice]);
      expect(await ids('q=USER-BOB')).toEqual([bob]);
      expect(await ids('q=liddell')).toEqual([alice]);
      expect(await ids('q=anon-xyz-1')).toEqual([anon]);
      // LIKE wildcards are literal: only Bob's name has a percent sign.
      expect(await ids('q=%25')).toEqual([bob]);
      expect(await ids('q=nobody-matches-this')).toEqual([]);
    });

    it('filters by email, userId (merged ids too) and identified', async () => {
      expect(await ids('email=alice%40example.COM')).toEqual([alice]);
      expect(await ids('userId=user-bob')).toEqual([bob]);
      expect(await ids('userId=old-alice')).toEqual([alice]);
      const anonymous = await ids('identified=false&limit=500');
      expect(anonymous).toContain(anon);
      expect(anonymous).not.toContain(alice);
      expect(await ids('identified=true&limit=500')).not.toContain(anon);
      const bad = await get<ErrorJson>('/api/people?identified=maybe');
      expect(bad.status).toBe(400);
    });

    it('refuses NUL characters with a 400, not a database error', async () => {
      const r = await get<ErrorJson>('/api/people?q=a%00b');
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('request.invalid');
    });
  });

  describe('one person', () => {
    let carol: string;
    beforeAll(async () => {
      carol = await seedPerson({ externalId: 'user-carol', email: 'carol@example.com', attributes: { name: 'Carol' }, anonymousIds: ['anon-c1', 'anon-c2'] });
    });

    it('answers by uuid, by userId, by email and by anonymousId with identifiers', async () => {
      const byId = await get<PersonJson>(`/api/people/${carol}`);
      expect(byId.status).toBe(200);
      expect(byId.body).toMatchObject({ id: carol, userId: 'user-carol', email: 'carol@example.com', identified: true, attributes: { name: 'Carol' } });
      expect(byId.body.identifiers?.userIds).toEqual(['user-carol']);
      expect(byId.body.identifiers?.anonymousIds.sort()).toEqual(['anon-c1', 'anon-c2']);
      expect((await get<PersonJson>('/api/people/CAROL%40example.com?by=email')).body.id).toBe(carol);
      expect((await get<PersonJson>('/api/people/user-carol?by=userId')).body.id).toBe(carol);
      expect((await get<PersonJson>('/api/people/anon-c2?by=anonymousId')).body.id).toBe(carol);
    });

    it('answers 404 person.not_found for unknown ids, non-uuids and other workspaces', async () => {
      const other = await t.workspace('Other');
      for (const [url, key] of [
        [`/api/people/${randomUUID()}`, ws.appApiKey], ['/api/people/not-a-uuid', ws.appApiKey],
        ['/api/people/user-carol', ws.appApiKey], ['/api/people/nobody%40example.com?by=email', ws.appApiKey],
        [`/api/people/${carol}`, other.appApiKey], ['/api/people/user-carol?by=userId', other.appApiKey],
        [`/api/people/${carol}/events`, other.appApiKey], [`/api/people/${carol}/export`, other.appApiKey],
      ] as const) {
        const r = await get<ErrorJson>(url, key);
        expect(r.status, url).toBe(404);
        expect(r.body.error.code).toBe('person.not_found');
      }
      const badBy = await get<ErrorJson>(`/api/people/${carol}?by=phone`);
      expect(badBy.status).toBe(400);
    });
  });

  describe('timeline', () => {
    let dave: string;
    beforeAll(async () => {
      dave = await seedPerson({ externalId: 'user-dave' });
      await seedEvents(dave, [
        { name: 'Signed Up', timestamp: '2026-01-01T00:00:00.000001Z' },
        { type: 'page', name: 'Home', timestamp: '2026-01-02T00:00:00.000000Z' },
        { name: 'Order Completed', timestamp: '2026-01-03T00:00:00.000500Z', properties: { total: 1 } },
        { name: 'Order Completed', timestamp: '2026-01-03T00:00:00.000500Z', properties: { total: 2 } },
        { name: 'Order Completed', timestamp: '2026-01-04T00:00:00.000000Z', properties: { total: 3 } },
      ]);
    });

    it('lists newest first and pages without gaps, even when timestamps tie', async () => {
      const all = await get<{ events: EventJson[] }>(`/api/people/${dave}/events`);
      expect(all.body.events.map((e) => e.properties.total ?? e.name)).toEqual([3, 2, 1, 'Home', 'Signed Up']);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const r: { body: { events: EventJson[]; nextCursor: string | null } } =
          await get(`/api/people/${dave}/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        paged.push(...r.body.events.map((e) => e.id));
        cursor = r.body.nextCursor;
      } while (cursor);
      expect(paged).toEqual(all.body.events.map((e) => e.id));
    });

    it('filters by type and name, by userId too', async () => {
      const pages = await get<{ events: EventJson[] }>(`/api/people/user-dave/events?by=userId&type=page`);
      expect(pages.body.events.map((e) => e.name)).toEqual(['Home']);
      const orders = await get<{ events: EventJson[] }>(`/api/people/${dave}/events?name=Order%20Completed`);
      expect(orders.body.events).toHaveLength(3);
    });

    it('rejects bad cursors and limits', async () => {
      const people = await get<{ nextCursor: string }>('/api/people?limit=1');
      // A people cursor carries a uuid, not an event id: refused on the timeline.
      const r = await get<ErrorJson>(`/api/people/${dave}/events?cursor=${people.body.nextCursor}`);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'request.invalid', field: 'cursor' });
      expect((await get(`/api/people/${dave}/events?limit=-1`)).status).toBe(400);
      expect((await get(`/api/people/${dave}/events?type=click`)).status).toBe(400);
    });
  });

  describe('objects, export and delete', () => {
    let erin: string;
    beforeAll(async () => {
      erin = await seedPerson({ externalId: 'user-erin', email: 'erin@example.com', attributes: { name: 'Erin' }, anonymousIds: ['anon-erin'] });
      const at = '2026-01-05T00:00:00Z';
      await t.services.db.insertInto('objects').values({
        workspace_id: ws.workspaceId, object_type: 'company', object_id: 'acme', attributes: JSON.stringify({ name: 'Acme Inc', seats: 12 }),
        created_at: at, updated_at: at,
      }).execute();
      await t.services.db.insertInto('object_relationships').values({
        workspace_id: ws.workspaceId, person_id: erin, object_type: 'company', object_id: 'acme',
        attributes: JSON.stringify({ role: 'admin' }), created_at: at, updated_at: at,
      }).execute();
      await t.services.db.insertInto('devices').values({
        workspace_id: ws.workspaceId, person_id: erin, device_id: 'device-erin-1', platform: 'ios',
        attributes: JSON.stringify({ model: 'iPhone' }), last_used: at, created_at: at, updated_at: at,
      }).execute();
      await t.services.db.insertInto('person_suppressions').values({ workspace_id: ws.workspaceId, kind: 'anonymous', value: 'anon-erin', reason: 'test' }).execute();
      // 2,500 events: more than one internal page of the export.
      await sql`INSERT INTO events (workspace_id, person_id, type, name, properties, source, timestamp, received_at)
        SELECT ${ws.workspaceId}, ${erin}::uuid, 'track', 'Tick', jsonb_build_object('n', g), 'api',
               timestamptz '2026-01-01' + g * interval '1 second', timestamptz '2026-01-01' + g * interval '1 second'
        FROM generate_series(1, 2500) g`.execute(t.services.db);
    });

    it('reads an object and the person\'s objects', async () => {
      const o = await get<{ attributes: Record<string, unknown>; relationshipCount: number }>('/api/objects/company/acme');
      expect(o.status).toBe(200);
      expect(o.body).toMatchObject({ type: 'company', id: 'acme', attributes: { name: 'Acme Inc' }, relationshipCount: 1 });
      expect((await get<ErrorJson>('/api/objects/company/nope')).body.error.code).toBe('object.not_found');
      const rel = await get<{ objects: Array<Record<string, unknown>> }>(`/api/people/${erin}/objects`);
      expect(rel.body.objects).toEqual([expect.objectContaining({
        type: 'company', id: 'acme', attributes: { name: 'Acme Inc', seats: 12 }, relationshipAttributes: { role: 'admin' },
      })]);
    });

    it('exports everything stored about the person', async () => {
      const r = await get<{
        exportedAt: string; person: PersonJson; identifiers: Array<{ kind: string; value: string }>;
        devices: Array<{ deviceId: string }>; objects: Array<{ id: string; attributes: Record<string, unknown> }>;
        suppressions: Array<{ kind: string; value: string }>; events: EventJson[];
      }>(`/api/people/user-erin/export?by=userId`);
      expect(r.status).toBe(200);
      expect(r.raw.headers['content-type']).toContain('application/json');
      expect(r.body.exportedAt).toBe(clock.now().toISOString());
      expect(r.body.person).toMatchObject({ id: erin, email: 'erin@example.com', attributes: { name: 'Erin' } });
      expect(r.body.identifiers.map((i) => `${i.kind}:${i.value}`).sort()).toEqual(['anonymous:anon-erin', 'user:user-erin']);
      expect(r.body.devices.map((d) => d.deviceId)).toEqual(['device-erin-1']);
      expect(r.body.objects).toEqual([expect.objectContaining({ id: 'acme', attributes: { name: 'Acme Inc', seats: 12 } })]);
      expect(r.body.suppressions).toEqual([expect.objectContaining({ kind: 'anonymous', value: 'anon-erin' })]);
      expect(r.body.events).toHaveLength(2500);
      expect(new Set(r.body.events.map((e) => e.id)).size).toBe(2500);
      expect(r.body.events[0]?.properties.n).toBe(2500);
      expect(r.body.events.at(-1)?.properties.n).toBe(1);
    });

    it('deletes and suppresses: the person, their events and relations are gone', async () => {
      const res = await t.app.inject({ method: 'DELETE', url: `/api/people/erin%40example.com?by=email`, headers: { authorization: bearer(ws.appApiKey) } });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      for (const url of [`/api/people/${erin}`, `/api/people/${erin}/export`, `/api/people/${erin}/events`, '/api/people/user-erin?by=userId']) {
        const r = await get<ErrorJson>(url);
        expect(r.status, url).toBe(404);
        expect(r.body.error.code).toBe('person.not_found');
      }
      const events = await t.services.db.selectFrom('events').select(sql<number>`count(*)::int`.as('n'))
        .where('workspace_id', '=', ws.workspaceId).where('person_id', '=', erin).executeTakeFirstOrThrow();
      expect(events.n).toBe(0);
      const suppressed = await t.services.db.selectFrom('person_suppressions').select(['kind', 'value'])
        .where('workspace_id', '=', ws.workspaceId).execute();
      expect(suppressed).toEqual(expect.arrayContaining([
        { kind: 'user', value: 'user-erin' }, { kind: 'email', value: 'erin@example.com' },
      ]));
      const again = await t.app.inject({ method: 'DELETE', url: `/api/people/${erin}`, headers: { authorization: bearer(ws.appApiKey) } });
      expect(again.statusCode).toBe(404);
    });
  });

  it('requires the app key', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/people' });
    expect(res.statusCode).toBe(401);
    const wrongKind = await t.app.inject({ method: 'GET', url: '/api/people', headers: { authorization: bearer(ws.writeKey) } });
    expect(wrongKind.statusCode).toBe(401);
  });
});
