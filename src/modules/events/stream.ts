// The live event stream behind GET /api/events/stream, across processes.
//
// The ingest transaction runs NOTIFY tandem_events '<workspaceId>' at commit. Each process holds ONE
// dedicated connection that LISTENs (opened at the first subscriber), and on a notification for a
// workspace that has subscribers here it reads that workspace's events after its cursor (at most
// FETCH_LIMIT per read, more reads follow while there are more) and fans them out.
//
// Event ids come from one sequence and are drawn at insert, so a transaction that commits late can
// make visible an id below ones already delivered. Each read therefore looks back over the ids it
// delivered in the last LOOKBACK_MS (at most LOOKBACK_IDS of them) and picks up what is new there;
// an event that commits later than that after a higher id was delivered is not streamed. The stream
// is a debugger's view, not a delivery guarantee; the events table is the record.
import pg from 'pg';
import { sql } from 'kysely';
import type { Db } from '../../db/pool.ts';
import type { EventKind } from '../../db/schema.ts';
import type { Logger } from '../../logger.ts';

export const EVENTS_CHANNEL = 'tandem_events';
export const FETCH_LIMIT = 500;
const LOOKBACK_MS = 5_000;
const LOOKBACK_IDS = 2_000;
const MAX_RETRY_MS = 30_000;

export interface LiveEvent {
  id: string;
  type: EventKind;
  name: string | null;
  personId: string | null;
  userId: string | null;
  anonymousId: string | null;
  messageId: string | null;
  source: string;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
  timestamp: string;
  receivedAt: string;
}

export interface SubscribeOptions {
  /** Resume: first replay (at most FETCH_LIMIT) events of the workspace after this id. */
  lastEventId?: string | undefined;
  type?: EventKind | undefined;
  name?: string | undefined;
  onEvent(event: LiveEvent): void;
}

interface Sub {
  opts: SubscribeOptions;
  /** Live events that arrive while the resume replay runs wait here. */
  buffer: LiveEvent[] | undefined;
}

interface Round {
  at: number;
  /** The cursor before this read: the look-back floor while this round is retained. */
  before: bigint;
  ids: string[];
}

interface WorkspaceState {
  subs: Set<Sub>;
  cursor: bigint;
  ready: boolean;
  init: Promise<void>;
  running: boolean;
  dirty: boolean;
  rounds: Round[];
}

export function createEventStream(deps: { db: Db; pool: pg.Pool; log: Logger }) {
  const { db, pool } = deps;
  const log = deps.log.child({ module: 'event-stream' });
  const workspaces = new Map<string, WorkspaceState>();
  let client: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let closed = false;

  function listen(): Promise<void> {
    if (client) return Promise.resolve();
    connecting ??= (async () => {
      // Its own connection (same settings as the pool), so it neither uses up nor blocks the pool.
      const c = new pg.Client(pool.options);
      c.on('notification', (msg) => {
        if (msg.channel === EVENTS_CHANNEL && msg.payload) poke(msg.payload);
      });
      c.on('error', (err) => {
        log.warn({ err }, 'live stream connection failed');
        lost(c);
      });
      c.on('end', () => lost(c));
      try {
        await c.connect();
        await c.query(`LISTEN ${EVENTS_CHANNEL}`);
      } catch (err) {
        await c.end().catch(() => undefined);
        throw err;
      }
      if (closed) {
        await c.end().catch(() => undefined);
        throw new Error('The event stream is closed.');
      }
      client = c;
    })().finally(() => { connecting = undefined; });
    return connecting;
  }

  function lost(c: pg.Client): void {
    if (client !== c) return;
    client = undefined;
    c.end().catch(() => undefined);
    if (!closed && workspaces.size > 0) reconnect(1_000);
  }

  function reconnect(delayMs: number): void {
    if (retryTimer || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      listen().then(
        // Catch up on whatever was committed while nobody listened.
        () => { for (const ws of workspaces.keys()) poke(ws); },
        () => reconnect(Math.min(delayMs * 2, MAX_RETRY_MS)),
      );
    }, delayMs);
    retryTimer.unref();
  }

  function poke(ws: string): void {
    const st = workspaces.get(ws);
    if (!st) return;
    if (st.running || !st.ready) {
      st.dirty = true;
      return;
    }
    void drain(ws, st);
  }

  async function drain(ws: string, st: WorkspaceState): Promise<void> {
    st.running = true;
    try {
      do {
        st.dirty = false;
        const now = performance.now();
        let retained = st.rounds.reduce((n, r) => n + r.ids.length, 0);
        while (st.rounds.length > 0 && (now - st.rounds[0]!.at > LOOKBACK_MS || retained > LOOKBACK_IDS)) {
          retained -= st.rounds.shift()!.ids.length;
        }
        const floor = st.rounds[0]?.before ?? st.cursor;
        const rows = await readAfter(db, ws, floor, st.rounds.flatMap((r) => r.ids));
        if (rows.length === 0) continue;
        const before = st.cursor;
        for (const r of rows) {
          const id = BigInt(r.id);
          if (id > st.cursor) st.cursor = id;
        }
        st.rounds.push({ at: now, before, ids: rows.map((r) => r.id) });
        for (const sub of st.subs) deliver(sub, rows);
        if (rows.length === FETCH_LIMIT) st.dirty = true;
      } while (st.dirty && workspaces.get(ws) === st);
    } catch (err) {
      log.warn({ err, workspaceId: ws }, 'live stream read failed');
    } finally {
      st.running = false;
    }
  }

  function deliver(sub: Sub, events: LiveEvent[]): void {
    for (const e of events) {
      if (sub.opts.type !== undefined && e.type !== sub.opts.type) continue;
      if (sub.opts.name !== undefined && e.name !== sub.opts.name) continue;
      if (sub.buffer) sub.buffer.push(e);
      else emit(sub, e);
    }
  }

  function emit(sub: Sub, e: LiveEvent): void {
    try {
      sub.opts.onEvent(e);
    } catch (err) {
      log.warn({ err }, 'live stream subscriber failed');
    }
  }

  function workspaceState(ws: string): WorkspaceState {
    const existing = workspaces.get(ws);
    if (existing) return existing;
    const st: WorkspaceState = {
      subs: new Set(), cursor: 0n, ready: false, init: Promise.resolve(), running: false, dirty: false, rounds: [],
    };
    // LISTEN is already active: anything committed after this read is announced to us.
    st.init = maxEventId(db, ws).then((max) => {
      st.cursor = max;
      st.ready = true;
      if (st.dirty) poke(ws);
    });
    st.init.catch(() => { if (workspaces.get(ws) === st) workspaces.delete(ws); });
    workspaces.set(ws, st);
    return st;
  }

  function unsubscribe(ws: string, st: WorkspaceState, sub: Sub): void {
    st.subs.delete(sub);
    if (st.subs.size === 0 && workspaces.get(ws) === st) workspaces.delete(ws);
  }

  return {
    /**
     * Calls onEvent for each new event of the workspace (after a replay from lastEventId, if given)
     * until the returned function is called.
     */
    async subscribe(workspaceId: string, opts: SubscribeOptions): Promise<() => void> {
      if (closed) throw new Error('The event stream is closed.');
      await listen();
      const st = workspaceState(workspaceId);
      const sub: Sub = { opts, buffer: opts.lastEventId !== undefined ? [] : undefined };
      st.subs.add(sub);
      try {
        await st.init;
        if (opts.lastEventId !== undefined) {
          const replay = await readRange(db, workspaceId, BigInt(opts.lastEventId), st.cursor);
          const buffered = sub.buffer ?? [];
          sub.buffer = undefined;
          const sent = new Set<string>();
          deliver(sub, replay);
          for (const e of replay) sent.add(e.id);
          for (const e of buffered) if (!sent.has(e.id)) emit(sub, e);
        }
      } catch (err) {
        unsubscribe(workspaceId, st, sub);
        throw err;
      }
      return () => unsubscribe(workspaceId, st, sub);
    },

    /** Subscribers in this process (for tests and metrics). */
    subscriberCount(): number {
      let n = 0;
      for (const st of workspaces.values()) n += st.subs.size;
      return n;
    },

    /** Stops listening; called when the app closes. */
    async close(): Promise<void> {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      workspaces.clear();
      await connecting?.catch(() => undefined);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}

export type EventStream = ReturnType<typeof createEventStream>;

// --- Queries (read-only, over the events table; scoped by workspace_id) ---

interface EventDbRow {
  id: string; type: EventKind; name: string | null; person_id: string | null; user_id: string | null;
  anonymous_id: string | null; message_id: string | null; source: string; properties: Record<string, unknown>;
  context: Record<string, unknown>; timestamp: Date; received_at: Date;
}

const COLUMNS = sql`id::text AS id, type, name, person_id, user_id, anonymous_id, message_id, source, properties, context,
  timestamp, received_at`;

function toLive(r: EventDbRow): LiveEvent {
  return {
    id: r.id, type: r.type, name: r.name, personId: r.person_id, userId: r.user_id, anonymousId: r.anonymous_id,
    messageId: r.message_id, source: r.source, properties: r.properties, context: r.context,
    timestamp: r.timestamp.toISOString(), receivedAt: r.received_at.toISOString(),
  };
}

async function maxEventId(db: Db, ws: string): Promise<bigint> {
  const res = await sql<{ max: string | null }>`
    SELECT max(id)::text AS max FROM events WHERE workspace_id = ${ws}`.execute(db);
  return BigInt(res.rows[0]?.max ?? '0');
}

/** Events after floor that are not in exclude (already delivered), oldest first. */
async function readAfter(db: Db, ws: string, floor: bigint, exclude: string[]): Promise<LiveEvent[]> {
  const res = await sql<EventDbRow>`
    SELECT ${COLUMNS} FROM events
    WHERE workspace_id = ${ws} AND id > ${floor.toString()}::bigint AND NOT (id = ANY(${exclude}::bigint[]))
    ORDER BY id LIMIT ${FETCH_LIMIT}`.execute(db);
  return res.rows.map(toLive);
}

/** Events in (after, upTo], oldest first, at most FETCH_LIMIT. */
async function readRange(db: Db, ws: string, after: bigint, upTo: bigint): Promise<LiveEvent[]> {
  if (after >= upTo) return [];
  const res = await sql<EventDbRow>`
    SELECT ${COLUMNS} FROM events
    WHERE workspace_id = ${ws} AND id > ${after.toString()}::bigint AND id <= ${upTo.toString()}::bigint
    ORDER BY id LIMIT ${FETCH_LIMIT}`.execute(db);
  return res.rows.map(toLive);
}
