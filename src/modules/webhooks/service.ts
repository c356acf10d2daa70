// Outbound webhooks: endpoints (CRUD, secret rotation), emit() inside the caller's transaction, and
// the delivery task. Delivery itself (signing, POST, retries, 410) is in deliver.ts.
import { randomBytes } from 'node:crypto';
import type { Task } from 'graphile-worker';
import type { Clock } from '../../clock.ts';
import type { Db, Queryable } from '../../db/pool.ts';
import { AppError, isAppError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { ttlCache } from '../../db/ttl-cache.ts';
import { checkHostOnSave, checkUrl, outboundPolicy, type OutboundClient, type PrivatePolicy, type Resolver } from '../../net/index.ts';
import { enqueueJob } from '../../worker/jobs.ts';
import { deliverAttempt, DELIVER_TASK, isDeliverJob, type DeliverJob, type DeliveryOutcome } from './deliver.ts';
import { createWebhookRepo } from './repo.ts';
import { newSecret } from './signature.ts';
import { isEventType, type EndpointMessage, type WebhookEndpoint, type WebhookEndpointWithSecret, type WebhookPayload } from './types.ts';

export const PURGE_TASK = 'webhooks:purge';
/** Messages (with their attempts) are kept this long once no delivery of them is pending. */
export const RETENTION_DAYS = 30;

const ENDPOINT_ID = /^wep_[0-9a-f]{20}$/;
const SUBSCRIPTIONS_TTL_MS = 5_000;

export interface WebhookDeps {
  db: Db;
  clock: Clock;
  log?: Logger;
  /** Built with the configured private-address policy (config.outboundAllowPrivate). */
  outbound: OutboundClient;
  allowPrivate: boolean | readonly string[];
  /** Resolves host names when an endpoint is saved (tests inject one). */
  resolve?: Resolver;
  /** [0, 1): the retry jitter (tests pass their own). */
  random?: () => number;
}

export interface EndpointInput {
  url: string;
  description?: string | undefined;
  eventTypes: string[];
}

export interface EndpointPage {
  endpoints: WebhookEndpoint[];
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null;
}

function notFound(): AppError {
  return new AppError('webhook.endpoint_not_found', undefined, { field: 'id' });
}

/** Deduplicated, every one known; '*' anywhere subscribes to everything. */
function cleanEventTypes(types: readonly string[]): string[] {
  types.forEach((t, i) => {
    if (t !== '*' && !isEventType(t)) {
      throw new AppError('webhook.unknown_event_type', `eventTypes[${i}]: no event type "${t.slice(0, 100)}"`, { field: `eventTypes[${i}]` });
    }
  });
  if (types.includes('*')) return ['*'];
  return [...new Set(types)];
}

export function createWebhookService(deps: WebhookDeps) {
  const { db, clock } = deps;
  const policy: PrivatePolicy = outboundPolicy(deps.allowPrivate);
  // The event types of each workspace's active endpoints, for a few seconds: every send asks whether
  // anyone listens. This process's changes clear it at once; another process's show within the TTL.
  const subscriptions = ttlCache<string, Set<string>>(SUBSCRIPTIONS_TTL_MS,
    async (workspaceId) => new Set((await createWebhookRepo(db).activeEventTypes(workspaceId)).flat()));
  const forget = (workspaceId: string) => subscriptions.forget(workspaceId);

  /** Whether an active endpoint of the workspace is subscribed to `type` (cached; emit() asks the database when so). */
  async function wants(workspaceId: string, type: string): Promise<boolean> {
    const types = await subscriptions.get(workspaceId);
    return types.has(type) || types.has('*');
  }

  /** A private address, or a name that resolves to one, is refused when saved; the host is checked again at every delivery. */
  async function checkEndpointUrl(url: string): Promise<string> {
    let checked: URL;
    try {
      checked = checkUrl(url, policy);
    } catch (err) {
      if (isAppError(err)) throw new AppError(err.code, err.message, { ...err.details, field: 'url' });
      throw err;
    }
    await checkHostOnSave(checked.hostname, policy, 'url', deps.resolve);
    return checked.href;
  }

  async function existing(workspaceId: string, id: string): Promise<WebhookEndpointWithSecret> {
    if (!ENDPOINT_ID.test(id)) throw notFound();
    const e = await createWebhookRepo(db).findEndpoint(workspaceId, id);
    if (!e) throw notFound();
    return e;
  }

  /** Stores the message and one delivery per endpoint, and enqueues the first attempt of each. */
  async function store(tx: Queryable, workspaceId: string, type: string, data: Record<string, unknown>, endpointIds: string[]): Promise<string> {
    const at = clock.now();
    const id = `msg_${randomBytes(12).toString('hex')}`;
    const payload: WebhookPayload = { type, timestamp: at.toISOString(), data };
    const repo = createWebhookRepo(tx);
    await repo.insertMessage({ workspaceId, id, type, payload, at });
    await repo.insertDeliveries(workspaceId, id, endpointIds, at);
    for (const endpointId of endpointIds) {
      await enqueueJob(tx, DELIVER_TASK, { workspaceId, messageId: id, endpointId, attempt: 1 } satisfies DeliverJob, { maxAttempts: 5 });
    }
    return id;
  }

  const strip = ({ secret: _secret, ...e }: WebhookEndpointWithSecret): WebhookEndpoint => e;

  return {
    /**
     * Records an event for every active endpoint subscribed to `type`, in the caller's transaction
     * (pass it as `db`), so the event exists exactly when the change that caused it committed.
     * Answers the message id, or null when no endpoint wants the type (nothing is stored then).
     */
    async emit(tx: Queryable, workspaceId: string, type: string, data: object): Promise<string | null> {
      if (!isEventType(type)) throw new Error(`webhooks.emit: unknown event type "${type}" (add it to EVENT_TYPES)`);
      if (!(await wants(workspaceId, type))) return null;
      const endpointIds = await createWebhookRepo(tx).subscribedEndpointIds(workspaceId, type);
      if (endpointIds.length === 0) return null;
      return store(tx, workspaceId, type, data as Record<string, unknown>, endpointIds);
    },

    wants,

    async create(workspaceId: string, input: EndpointInput): Promise<WebhookEndpointWithSecret> {
      const url = await checkEndpointUrl(input.url);
      const eventTypes = cleanEventTypes(input.eventTypes);
      const created = await createWebhookRepo(db).insertEndpoint({
        workspaceId, id: `wep_${randomBytes(10).toString('hex')}`, url, description: input.description ?? '',
        eventTypes, secret: newSecret(), at: clock.now(),
      });
      forget(workspaceId);
      return created;
    },

    async list(workspaceId: string, opts: { limit?: number; after?: string | undefined } = {}): Promise<EndpointPage> {
      const limit = opts.limit ?? 100;
      const repo = createWebhookRepo(db);
      let after: { createdAt: Date; id: string } | undefined;
      if (opts.after !== undefined) {
        const from = ENDPOINT_ID.test(opts.after) ? await repo.findEndpoint(workspaceId, opts.after) : undefined;
        if (!from) throw new AppError('request.invalid', 'after: not an endpoint of this workspace', { field: 'querystring.after' });
        after = { createdAt: from.createdAt, id: from.id };
      }
      const rows = await repo.listEndpoints(workspaceId, { limit: limit + 1, after });
      const page = rows.slice(0, limit);
      return { endpoints: page, next: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
    },

    async get(workspaceId: string, id: string): Promise<WebhookEndpoint> {
      return strip(await existing(workspaceId, id));
    },

    /** Changes url, description, event types; status 'active' re-enables (clearing the reason), 'disabled' disables. */
    async update(workspaceId: string, id: string, change: Partial<EndpointInput> & { status?: 'active' | 'disabled' | undefined }): Promise<WebhookEndpoint> {
      const current = await existing(workspaceId, id);
      const at = clock.now();
      const statusChange = change.status === undefined || change.status === current.status ? {}
        : change.status === 'active'
          ? { status: 'active' as const, disabledReason: null, disabledAt: null }
          : { status: 'disabled' as const, disabledReason: 'Disabled through the API.', disabledAt: at };
      const url = change.url !== undefined ? await checkEndpointUrl(change.url) : undefined;
      const updated = await createWebhookRepo(db).updateEndpoint(workspaceId, id, {
        ...(url !== undefined ? { url } : {}),
        ...(change.description !== undefined ? { description: change.description } : {}),
        ...(change.eventTypes !== undefined ? { eventTypes: cleanEventTypes(change.eventTypes) } : {}),
        ...statusChange, at,
      });
      forget(workspaceId);
      if (!updated) throw notFound();
      return strip(updated);
    },

    /** A new secret; the old one stops signing at once (attempts from now on use the new one). */
    async rotateSecret(workspaceId: string, id: string): Promise<WebhookEndpointWithSecret> {
      await existing(workspaceId, id);
      const updated = await createWebhookRepo(db).updateEndpoint(workspaceId, id, { secret: newSecret(), at: clock.now() });
      if (!updated) throw notFound();
      return updated;
    },

    async delete(workspaceId: string, id: string): Promise<void> {
      const deleted = ENDPOINT_ID.test(id) && await createWebhookRepo(db).deleteEndpoint(workspaceId, id);
      forget(workspaceId);
      if (!deleted) throw notFound();
    },

    /** Sends a `webhook.test` message to this endpoint only (subscribed to it or not). */
    async sendTest(workspaceId: string, id: string): Promise<string> {
      const endpoint = await existing(workspaceId, id);
      if (endpoint.status !== 'active') throw new AppError('webhook.endpoint_disabled', undefined, { field: 'id' });
      return db.transaction().execute((tx) => store(tx, workspaceId, 'webhook.test', {
        endpointId: id, message: 'A test message from Tandem.',
      }, [id]));
    },

    /** The endpoint's most recent messages with every attempt, newest first. */
    async messages(workspaceId: string, id: string, limit = 50): Promise<EndpointMessage[]> {
      await existing(workspaceId, id);
      return createWebhookRepo(db).endpointMessages(workspaceId, id, limit);
    },

    /** One delivery attempt (what the `webhooks:deliver` task runs). */
    async deliver(job: DeliverJob): Promise<DeliveryOutcome> {
      const outcome = await deliverAttempt({ db, clock, outbound: deps.outbound, ...(deps.log ? { log: deps.log } : {}), ...(deps.random ? { random: deps.random } : {}) }, job);
      if (outcome.result === 'disabled') forget(job.workspaceId);
      return outcome;
    },

    async purge(): Promise<number> {
      return createWebhookRepo(db).purgeMessages(new Date(clock.now().getTime() - RETENTION_DAYS * 86_400_000));
    },

    tasks(): Record<string, Task> {
      return {
        [DELIVER_TASK]: async (payload) => {
          if (!isDeliverJob(payload)) throw new Error(`${DELIVER_TASK}: payload needs workspaceId, messageId, endpointId and attempt`);
          await this.deliver(payload);
        },
        [PURGE_TASK]: async () => {
          await this.purge();
        },
      };
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
