// Carries out Customer.io operations: identify and events go through the ingest pipeline (dedupe,
// identity, suppression, one transaction); deletes, merges, devices and objects through the people
// service. Runs of identify/event operations are ingested together, in order.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/pool.ts';
import { isAppError } from '../../errors.ts';
import type { Metrics } from '../../metrics.ts';
import type { IncomingEvent, IngestResult, IngestService } from '../ingest/index.ts';
import type { PeopleService, PersonRef } from '../people/index.ts';
import { isIngestOp, type IngestOp, type Op, type Who } from './ops.ts';
import { createCustomerioRepo } from './repo.ts';

export interface CustomerioDeps {
  db: Db;
  clock: Clock;
  metrics: Metrics;
  ingest: Pick<IngestService, 'ingest'>;
  people: Pick<PeopleService, 'find' | 'merge' | 'delete' | 'deleteAndSuppress' | 'unsuppress' | 'setDevice'
    | 'deleteDevice' | 'upsertObject' | 'deleteObject' | 'relate' | 'unrelate'>;
}

interface Target {
  userId?: string;
  email?: string;
  anonymousId?: string;
}

const SOURCE = 'customerio' as const;

export function toRef(who: Who): PersonRef {
  switch (who.kind) {
    case 'id':
      return { userId: who.value };
    case 'email':
      return { email: who.value };
    case 'cio_id':
      return { id: who.value };
    case 'anonymous_id':
      return { anonymousId: who.value };
  }
}

/**
 * The anonymous id for an anonymous event sent without one (Customer.io's invite emails): one per
 * invited address, so repeated invites to one address land on one anonymous profile.
 */
export function inviteAnonymousId(data: Record<string, unknown>): string {
  const recipient = data.recipient;
  if (typeof recipient === 'string' && recipient.trim() !== '') return `cio_invite:${recipient.trim().toLowerCase()}`;
  return `cio_anonymous:${randomUUID()}`;
}

export function createCustomerioService(deps: CustomerioDeps) {
  const { clock, metrics, ingest, people } = deps;
  const repo = createCustomerioRepo(deps.db);

  /** How ingest names the person; null when a cio_id names nobody (Customer.io drops such calls). */
  async function target(ws: string, who: Who): Promise<Target | null> {
    // Every identifier but Tandem's own id names the person for ingest as it is.
    if (who.kind !== 'cio_id') return toRef(who);
    const p = await repo.identity(ws, who.value);
    if (!p) return null;
    if (p.externalId) return { userId: p.externalId };
    if (p.email) return { email: p.email };
    return p.anonymousId ? { anonymousId: p.anonymousId } : null;
  }

  function event(t: Target, type: IncomingEvent['type'], timestamp: Date | null): IncomingEvent {
    return {
      type,
      userId: t.userId ?? null,
      email: t.userId ? null : t.email ?? null,
      anonymousId: t.anonymousId ?? null,
      timestamp: timestamp ?? clock.now(),
      context: {},
    };
  }

  async function toIncoming(ws: string, op: IngestOp): Promise<IncomingEvent | null> {
    if (op.op === 'event') {
      const t = op.who ? await target(ws, op.who) : { anonymousId: inviteAnonymousId(op.data) };
      if (!t) return null;
      return { ...event(t, op.type, op.timestamp), name: op.name, properties: op.data, messageId: op.messageId };
    }
    const t = await target(ws, op.who);
    if (!t) return null;
    const traits = { ...op.attributes };
    // The email a person is named by is their email attribute; a new id joins the person with that email.
    if (op.who.kind === 'email') traits.email = op.who.value;
    if (op.newId && !t.userId) {
      if (t.email) traits.email = t.email;
      t.userId = op.newId;
    }
    const e = event(t, 'identify', op.timestamp);
    e.traits = traits;
    if (op.anonymousId && !t.anonymousId) e.anonymousId = op.anonymousId;
    // A cio_id names an existing person only; Customer.io drops calls for unknown or deleted ones.
    if (op.updateOnly || op.who.kind === 'cio_id') e.updateOnly = true;
    return e;
  }

  async function store(ws: string, events: IncomingEvent[]): Promise<IngestResult> {
    const end = metrics.ingestDuration.startTimer({ source: SOURCE });
    const result = await ingest.ingest(ws, events, { source: SOURCE });
    end();
    const counts = new Map<string, number>();
    for (const o of result.outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
    for (const [outcome, n] of counts) metrics.ingestEvents.inc({ source: SOURCE, outcome }, n);
    return result;
  }

  /**
   * The person a non-ingest operation acts on, created first (by an empty identify, so suppression
   * and identity rules apply) when `create` and Customer.io would create them. null: nobody.
   */
  async function ensure(ws: string, who: Who, create: boolean): Promise<PersonRef | null> {
    const ref = toRef(who);
    if (await people.find(ws, ref)) return ref;
    if (!create || who.kind === 'cio_id') return null;
    const t = await target(ws, who);
    if (!t) return null;
    const e = event(t, 'identify', null);
    e.traits = who.kind === 'email' ? { email: who.value } : {};
    const result = await store(ws, [e]);
    return result.outcomes[0] === 'stored' ? ref : null;
  }

  /** Customer.io answers 200 for operations on people it cannot find; so does Tandem. */
  async function ignoringMissing(work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (isAppError(err) && err.code === 'person.not_found') return;
      throw err;
    }
  }

  async function runOne(ws: string, op: Exclude<Op, IngestOp>): Promise<void> {
    switch (op.op) {
      case 'delete':
        await people.delete(ws, toRef(op.who));
        return;
      case 'suppress':
        await people.deleteAndSuppress(ws, toRef(op.who));
        return;
      case 'unsuppress':
        await people.unsuppress(ws, toRef(op.who));
        return;
      case 'merge':
        await ignoringMissing(() => people.merge(ws, toRef(op.primary), toRef(op.secondary)));
        return;
      case 'add_device': {
        const ref = await ensure(ws, op.who, true);
        const attributes = Object.fromEntries(Object.entries(op.device.attributes).filter(([, v]) => v !== null));
        if (ref) await people.setDevice(ws, ref, { id: op.device.id, platform: op.device.platform, lastUsed: op.device.lastUsed ?? clock.now(), attributes });
        return;
      }
      case 'delete_device': {
        const ref = await ensure(ws, op.who, false);
        if (ref) await ignoringMissing(() => people.deleteDevice(ws, ref, op.deviceId));
        return;
      }
      case 'relate': {
        const ref = await ensure(ws, op.who, op.create);
        if (ref) await ignoringMissing(() => people.relate(ws, ref, op.objects));
        return;
      }
      case 'unrelate': {
        const ref = await ensure(ws, op.who, false);
        if (ref) await ignoringMissing(() => people.unrelate(ws, ref, op.objects));
        return;
      }
      case 'object_identify':
        await people.upsertObject(ws, op.type, op.id, op.attributes);
        return;
      case 'object_delete':
        await people.deleteObject(ws, op.type, op.id);
        return;
    }
  }

  return {
    /** Carries out the operations in order; resolves once every one of them is committed. */
    async run(ws: string, ops: Op[]): Promise<void> {
      let pending: IncomingEvent[] = [];
      const flush = async () => {
        if (pending.length > 0) await store(ws, pending);
        pending = [];
      };
      for (const op of ops) {
        if (isIngestOp(op)) {
          const e = await toIncoming(ws, op);
          if (e) pending.push(e);
          continue;
        }
        await flush();
        await runOne(ws, op);
      }
      await flush();
    },
  };
}

export type CustomerioService = ReturnType<typeof createCustomerioService>;
