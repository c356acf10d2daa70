// The live event stream over a real port: SSE framing, delivery after ingest, resume, isolation, close.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestTandem, type TestTandem } from '../../../test/harness.ts';
import type { IncomingEvent } from '../ingest/index.ts';
import type { LiveEvent } from './index.ts';
import { PATIENCE_MS, until } from '../../../test/helpers/wait.ts';

interface Frame {
  id?: string;
  event?: string;
  data?: string;
  comments: string[];
}

/** An SSE client on fetch: frames in arrival order. */
async function connect(url: string, headers: Record<string, string>) {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let ended = false;

  async function frame(timeoutMs = PATIENCE_MS): Promise<Frame | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = buf.indexOf('\n\n');
      if (end >= 0) {
        const raw = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const f: Frame = { comments: [] };
        for (const line of raw.split('\n')) {
          if (line.startsWith(':')) f.comments.push(line.slice(1).trim());
          else if (line.startsWith('id: ')) f.id = line.slice(4);
          else if (line.startsWith('event: ')) f.event = line.slice(7);
          else if (line.startsWith('data: ')) f.data = line.slice(6);
        }
        return f;
      }
      if (ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      let timer: NodeJS.Timeout | undefined;
      const chunk: Awaited<ReturnType<typeof reader.read>> = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), left); }),
      ]).finally(() => clearTimeout(timer));
      if (chunk.done) ended = true;
      else buf += decoder.decode(chunk.value as Uint8Array, { stream: true });
    }
  }

  /** Events received before the `: ready` comment (a resume replay). */
  async function ready(): Promise<LiveEvent[]> {
    const replay: LiveEvent[] = [];
    for (;;) {
      const f = await frame();
      if (!f) throw new Error('stream ended before it was ready');
      if (f.comments.includes('ready')) return replay;
      if (f.event === 'event') replay.push(JSON.parse(f.data!) as LiveEvent);
    }
  }

  async function next(): Promise<{ id: string; event: LiveEvent }> {
    for (;;) {
      const f = await frame();
      if (!f) throw new Error('stream ended');
      if (f.event === 'event') return { id: f.id!, event: JSON.parse(f.data!) as LiveEvent };
    }
  }

  return { res, frame, ready, next, close: () => ac.abort() };
}

describe('live event stream', () => {
  let t: TestTandem;
  beforeAll(async () => { t = await createTestTandem({ listen: true }); });
  afterAll(async () => { await t.close(); });

  const open = (key: string, query = '', headers: Record<string, string> = {}) =>
    connect(`${t.baseUrl}/api/events/stream${query}`, { authorization: bearer(key), ...headers });
  const track = (ws: string, name: string, properties: Record<string, unknown> = {}) =>
    t.services.ingest.ingest(ws, [{ type: 'track', userId: 'u1', name, properties, timestamp: new Date() } satisfies IncomingEvent], { source: 'api' });

  it('streams events stored after connecting, as SSE frames with the event id', async () => {
    const ws = await t.workspace();
    const s = await open(ws.appApiKey);
    expect(s.res.status).toBe(200);
    expect(s.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await s.ready()).toEqual([]);
    const stored = await track(ws.workspaceId, 'Signed Up', { plan: 'pro' });
    const got = await s.next();
    expect(got.id).toBe(stored.stored[0]!.id);
    expect(got.event).toMatchObject({ id: got.id, type: 'track', name: 'Signed Up', userId: 'u1', properties: { plan: 'pro' }, source: 'api' });
    s.close();
  });

  it('never shows one workspace\'s events to another', async () => {
    const a = await t.workspace('A');
    const b = await t.workspace('B');
    const sa = await open(a.appApiKey);
    const sb = await open(b.appApiKey);
    await sa.ready();
    await sb.ready();
    await track(a.workspaceId, 'Only A');
    await track(b.workspaceId, 'Only B');
    expect((await sa.next()).event.name).toBe('Only A');
    // B's first event is its own: A's, stored before it, never reached B.
    expect((await sb.next()).event.name).toBe('Only B');
    sa.close();
    sb.close();
  });

  it('resumes after Last-Event-ID, then continues live', async () => {
    const ws = await t.workspace();
    const first = await track(ws.workspaceId, 'One');
    await track(ws.workspaceId, 'Two');
    await track(ws.workspaceId, 'Three');
    const s = await open(ws.appApiKey, '', { 'last-event-id': first.stored[0]!.id });
    expect((await s.ready()).map((e) => e.name)).toEqual(['Two', 'Three']);
    await track(ws.workspaceId, 'Four');
    expect((await s.next()).event.name).toBe('Four');
    s.close();
    const q = await open(ws.appApiKey, `?lastEventId=${first.stored[0]!.id}&name=Three`);
    expect((await q.ready()).map((e) => e.name)).toEqual(['Three']);
    q.close();
  });

  it('filters by type and name', async () => {
    const ws = await t.workspace();
    const s = await open(ws.appApiKey, '?type=track&name=Wanted');
    await s.ready();
    await t.services.ingest.ingest(ws.workspaceId, [
      { type: 'identify', userId: 'u1', traits: { a: 1 }, timestamp: new Date() },
      { type: 'track', userId: 'u1', name: 'Unwanted', timestamp: new Date() },
      { type: 'track', userId: 'u1', name: 'Wanted', properties: { n: 1 }, timestamp: new Date() },
    ], { source: 'api' });
    expect((await s.next()).event).toMatchObject({ name: 'Wanted', properties: { n: 1 } });
    s.close();
  });

  it('delivers an event whose transaction commits after a later id was already streamed', async () => {
    const ws = await t.workspace();
    const s = await open(ws.appApiKey);
    await s.ready();
    const early = new pg.Client({ connectionString: t.databaseUrl });
    const late = new pg.Client({ connectionString: t.databaseUrl });
    await early.connect();
    await late.connect();
    const insert = (c: pg.Client, name: string) => c.query<{ id: string }>(
      `INSERT INTO events (workspace_id, type, name, source, timestamp, received_at) VALUES ($1, 'track', $2, 'api', now(), now()) RETURNING id`,
      [ws.workspaceId, name]);
    try {
      await early.query('BEGIN');
      const lowId = (await insert(early, 'Slow')).rows[0]!.id;
      await late.query('BEGIN');
      const highId = (await insert(late, 'Fast')).rows[0]!.id;
      expect(BigInt(lowId)).toBeLessThan(BigInt(highId));
      await late.query(`SELECT pg_notify('tandem_events', $1)`, [ws.workspaceId]);
      await late.query('COMMIT');
      expect((await s.next()).event.name).toBe('Fast');
      await early.query(`SELECT pg_notify('tandem_events', $1)`, [ws.workspaceId]);
      await early.query('COMMIT');
      expect((await s.next()).event).toMatchObject({ id: lowId, name: 'Slow' });
    } finally {
      await early.end();
      await late.end();
      s.close();
    }
  });

  it('listens again after its database connection is lost, and catches up', async () => {
    const ws = await t.workspace();
    const s = await open(ws.appApiKey);
    await s.ready();
    const admin = new pg.Client({ connectionString: t.databaseUrl });
    await admin.connect();
    try {
      const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND query = 'LISTEN tandem_events'`);
      expect(killed.rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    await track(ws.workspaceId, 'While away');
    expect((await s.next()).event.name).toBe('While away');
    s.close();
  });

  it('answers 401 without a key and 400 for a malformed Last-Event-ID', async () => {
    const none = await fetch(`${t.baseUrl}/api/events/stream`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'auth.missing' } });
    const ws = await t.workspace();
    const bad = await fetch(`${t.baseUrl}/api/events/stream`, { headers: { authorization: bearer(ws.appApiKey), 'last-event-id': 'abc' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'request.invalid', field: 'headers.last-event-id' } });
  });

  it('forgets a subscriber when its client disconnects', async () => {
    const ws = await t.workspace();
    const before = t.services.eventStream.subscriberCount();
    const s = await open(ws.appApiKey);
    await s.ready();
    expect(t.services.eventStream.subscriberCount()).toBe(before + 1);
    s.close();
    await until(() => t.services.eventStream.subscriberCount() === before, 'the subscriber to be forgotten');
    expect(t.services.eventStream.subscriberCount()).toBe(before);
  });

  it('ends open streams when the app closes', async () => {
    const other = await createTestTandem({ listen: true });
    const ws = await other.workspace();
    const s = await connect(`${other.baseUrl}/api/events/stream`, { authorization: bearer(ws.appApiKey) });
    await s.ready();
    await other.close();
    for (;;) {
      const f = await s.frame();
      if (f === undefined) break;
    }
    expect(other.services.eventStream.subscriberCount()).toBe(0);
  });
});
