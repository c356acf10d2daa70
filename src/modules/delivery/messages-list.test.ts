// GET /api/messages: newest first on (created_at, id), whatever the random ids are, with a cursor that
// neither skips nor repeats a message while new ones arrive between pages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, FakeClock, type TestTandem } from '../../../test/harness.ts';
import type { CreatedWorkspace } from '../workspaces/index.ts';

interface Page { messages: Array<{ id: string; to: string; createdAt: string }>; nextCursor: string | null }

describe('GET /api/messages order and pages', () => {
  const clock = new FakeClock(new Date('2026-03-01T12:00:00.000Z'));
  let t: TestTandem;
  let ws: CreatedWorkspace;
  let n = 0;

  beforeAll(async () => {
    t = await createTestTandem({ clock });
    ws = await t.workspace();
  });
  afterAll(async () => { await t?.close(); });

  /** A queued message created at the clock's time `at`. */
  async function messageAt(at: string, to = `p${++n}@example.com`): Promise<string> {
    clock.set(new Date(at));
    const { message } = await t.services.delivery.enqueue(t.services.db, ws.workspaceId, {
      idempotencyKey: `list-test:${n++}`, source: 'transactional', channel: 'email', to, personId: null,
      templateId: null, request: { inline: { subject: 'Hi', body: '<p>Hi</p>' } }, retain: true,
    });
    return message.id;
  }

  const list = async (query: string): Promise<Page> => {
    const res = await t.app.inject({ method: 'GET', url: `/api/messages?${query}`, headers: { authorization: bearer(ws.appApiKey) } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Page>();
  };

  async function walk(limit: number, between?: (page: number) => Promise<void>): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page++) {
      const body: Page = await list(`limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...body.messages.map((m) => m.to));
      cursor = body.nextCursor;
      if (!cursor) return seen;
      await between?.(page);
    }
    throw new Error('no last page');
  }

  it('orders by creation time, newest first, and by id among messages created in the same millisecond', async () => {
    // Created out of order; three share one millisecond.
    await messageAt('2026-03-01T10:00:02.000Z', 'b@example.com');
    await messageAt('2026-03-01T10:00:00.000Z', 'first@example.com');
    await messageAt('2026-03-01T10:00:05.000Z', 'newest@example.com');
    const same = [
      await messageAt('2026-03-01T10:00:03.000Z', 'same1@example.com'),
      await messageAt('2026-03-01T10:00:03.000Z', 'same2@example.com'),
      await messageAt('2026-03-01T10:00:03.000Z', 'same3@example.com'),
    ];
    const all = (await list('limit=200')).messages;
    expect(all.map((m) => m.createdAt)).toEqual([...all.map((m) => m.createdAt)].sort().reverse());
    expect(all[0]?.to).toBe('newest@example.com');
    expect(all.at(-1)?.to).toBe('first@example.com');
    const tied = all.filter((m) => same.includes(m.id)).map((m) => m.id);
    expect(tied).toEqual([...same].sort().reverse());

    // Paged two at a time, the same order, each message once.
    expect(await walk(2)).toEqual(all.map((m) => m.to));
  });

  it('neither skips nor repeats when messages are created between pages', async () => {
    const before = (await list('limit=200')).messages.map((m) => m.to);
    let k = 0;
    // Newer messages (at the clock's latest time) and ones in the same millisecond as the newest.
    const seen = await walk(3, async () => {
      await messageAt(`2026-03-01T11:00:0${k % 10}.000Z`, `late${k++}@example.com`);
      await messageAt('2026-03-01T10:00:05.000Z', `late${k++}@example.com`);
    });
    const old = seen.filter((to) => !to.startsWith('late'));
    expect(old).toEqual(before);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('accepts the previous page\'s last id as `before` (older clients), and refuses a forged cursor', async () => {
    const all = (await list('limit=200')).messages;
    const third = all[2]!;
    expect((await list(`limit=200&before=${third.id}`)).messages.map((m) => m.id)).toEqual(all.slice(3).map((m) => m.id));

    const res = await t.app.inject({ method: 'GET', url: '/api/messages?cursor=bm90LWEtY3Vyc29y', headers: { authorization: bearer(ws.appApiKey) } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'request.invalid', field: 'cursor' } });
  });
});
