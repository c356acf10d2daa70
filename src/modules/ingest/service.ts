// The ingest pipeline, one transaction per call: dedupe by message id -> resolve identity -> upsert
// people -> append events -> observers (catalog) -> NOTIFY. A caller may answer 2xx only after it resolves.
import type { Clock } from '../../clock.ts';
import type { Db, Tx } from '../../db/pool.ts';
import type { Logger } from '../../logger.ts';
import type { EventsService, EventRow } from '../events/index.ts';
import type { PeopleService } from '../people/index.ts';
import type { IncomingEvent, IngestObserver, IngestResult, IngestSource, StoredEvent } from './types.ts';

// Deadlock, serialization failure, and a foreign key to a person that a concurrent call merged away
// between our lookup and our write (two calls at once naming one anonymous id with two user ids): the
// retry resolves identities again and finds the survivor.
const RETRYABLE = new Set(['40P01', '40001', '23503']);
const MAX_ATTEMPTS = 5;

export interface IngestDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  people: PeopleService;
  events: EventsService;
  observers: IngestObserver[];
}

export function createIngestService(deps: IngestDeps) {
  const { db, clock, log, people, events, observers } = deps;

  async function run(tx: Tx, ws: string, input: IncomingEvent[], source: IngestSource, receivedAt: Date): Promise<IngestResult> {
    const outcomes: IngestResult['outcomes'] = input.map(() => 'stored');

    // 1. Dedupe: repeats inside the batch, then against the window.
    const seen = new Set<string>();
    const claim: string[] = [];
    input.forEach((e, i) => {
      if (!e.messageId) return;
      if (seen.has(e.messageId)) outcomes[i] = 'duplicate';
      else {
        seen.add(e.messageId);
        claim.push(e.messageId);
      }
    });
    const fresh = await events.claimMessageIds(tx, ws, claim, receivedAt);
    input.forEach((e, i) => {
      if (e.messageId && outcomes[i] === 'stored' && !fresh.has(e.messageId)) outcomes[i] = 'duplicate';
    });

    // 2. Identity, in order, so that identify-then-track in one batch lands on one person.
    const resolver = people.resolver(tx, ws, receivedAt);
    const live = input.filter((_, i) => outcomes[i] === 'stored');
    await resolver.load(live);
    const personOf = new Array<string | null>(input.length).fill(null);
    for (let i = 0; i < input.length; i++) {
      if (outcomes[i] !== 'stored') continue;
      const e = input[i]!;
      const r = await resolver.resolve(e);
      if ('outcome' in r) outcomes[i] = r.outcome;
      else personOf[i] = r.personId;
    }
    await resolver.flush();

    // 3. Groups: the object and the person's relation to it.
    for (let i = 0; i < input.length; i++) {
      const e = input[i]!;
      const pid = personOf[i];
      if (outcomes[i] === 'stored' && e.type === 'group' && e.groupId && pid) {
        await people.groupIn(tx, ws, resolver.current(pid), e.objectType ?? 'group', e.groupId, e.traits ?? {}, receivedAt);
      }
    }

    // 4. Append.
    const rows: EventRow[] = [];
    input.forEach((e, i) => {
      if (outcomes[i] !== 'stored') return;
      const pid = personOf[i];
      rows.push({
        personId: pid ? resolver.current(pid) : null,
        messageId: e.messageId ?? null,
        type: e.type,
        name: e.name ?? null,
        // identify and group store their traits as the event's properties (the catalog reads them there).
        properties: (e.type === 'identify' || e.type === 'group' ? e.traits : e.properties) ?? {},
        context: e.context ?? {},
        userId: e.userId ?? null,
        anonymousId: e.anonymousId ?? null,
        source,
        timestamp: e.timestamp,
      });
    });
    const ids = await events.append(tx, ws, rows, receivedAt);
    const stored: StoredEvent[] = rows.map((r, k) => ({
      id: ids[k]!, workspaceId: ws, personId: r.personId, type: r.type, name: r.name, properties: r.properties,
      context: r.context, userId: r.userId, anonymousId: r.anonymousId, messageId: r.messageId, source,
      timestamp: r.timestamp, receivedAt,
    }));

    // 5. Observers (event catalog). The append above also NOTIFYs live listeners, delivered at commit.
    if (stored.length > 0) {
      const touched = resolver.touched();
      for (const o of observers) await o.onEventsStored(tx, ws, stored, touched);
    }
    return { outcomes, stored };
  }

  return {
    /** Stores the events of one request atomically: all of them are committed, or none. */
    async ingest(ws: string, input: IncomingEvent[], opts: { source: IngestSource }): Promise<IngestResult> {
      if (input.length === 0) return { outcomes: [], stored: [] };
      for (let attempt = 1; ; attempt++) {
        const receivedAt = clock.now();
        try {
          return await db.transaction().execute((tx) => run(tx, ws, input, opts.source, receivedAt));
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw err;
          log.debug({ code, attempt, workspaceId: ws }, 'ingest transaction retried');
          await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
        }
      }
    },

    /** Adds an observer called inside every ingest transaction (the event catalog registers here). */
    observe(o: IngestObserver): void {
      observers.push(o);
    },
  };
}

export type IngestService = ReturnType<typeof createIngestService>;
