// The Salesforce connector: a connection per workspace, and `salesforce:push_consent` jobs that set
// HasOptedOutOfEmail on every Lead and Contact with the person's email. Access tokens live in memory
// only (per process), keyed by the connection's last change so that a new PUT starts afresh.
import type { Task } from 'graphile-worker';
import type { Clock } from '../../clock.ts';
import type { Db, Queryable } from '../../db/pool.ts';
import { AppError, isAppError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { checkHostOnSave, checkUrl, outboundPolicy, type OutboundClient, type PrivatePolicy, type Resolver } from '../../net/index.ts';
import { enqueueJob } from '../../worker/jobs.ts';
import { createSalesforceClient, RetryableSalesforceError, type CachedToken } from './client.ts';
import { createSalesforceRepo, type SalesforceConnection } from './repo.ts';

export const PUSH_CONSENT_TASK = 'salesforce:push_consent';

export interface ConsentChange {
  workspaceId: string;
  email: string | null;
  optedOut: boolean;
  at: Date;
}

interface PushJob { workspaceId: string; email: string; optedOut: boolean; at: string }

function isPushJob(p: unknown): p is PushJob {
  if (p === null || typeof p !== 'object') return false;
  const { workspaceId, email, optedOut, at } = p as Record<string, unknown>;
  return typeof workspaceId === 'string' && typeof email === 'string' && typeof optedOut === 'boolean' && typeof at === 'string';
}

export interface SalesforceDeps {
  db: Db;
  clock: Clock;
  log?: Logger;
  outbound: OutboundClient;
  allowPrivate: boolean | readonly string[];
  /** Resolves the instance host when the connection is saved (tests inject one). */
  resolve?: Resolver;
}

export interface ConnectionInput {
  instanceUrl: string;
  clientId: string;
  clientSecret?: string | undefined;
  refreshToken?: string | undefined;
}

export type PushResult = { pushed: number } | { skipped: 'not_connected' } | { failed: string };

export function createSalesforceService(deps: SalesforceDeps) {
  const { db, clock } = deps;
  const policy: PrivatePolicy = outboundPolicy(deps.allowPrivate);
  const tokens = new Map<string, { stamp: number; token: CachedToken }>();

  function notConnected(): AppError {
    return new AppError('salesforce.not_connected');
  }

  return {
    /** Saves (or replaces) the workspace's connection. The secret and refresh token are stored as given. */
    async connect(workspaceId: string, input: ConnectionInput): Promise<SalesforceConnection> {
      let checked: URL;
      try {
        checked = checkUrl(input.instanceUrl, policy);
      } catch (err) {
        if (isAppError(err)) throw new AppError(err.code, err.message, { ...err.details, field: 'instanceUrl' });
        throw err;
      }
      await checkHostOnSave(checked.hostname, policy, 'instanceUrl', deps.resolve);
      const instanceUrl = checked.origin;
      if (!input.clientSecret && !input.refreshToken) {
        throw new AppError('request.invalid', 'clientSecret: required (or a refreshToken)', { field: 'clientSecret' });
      }
      tokens.delete(workspaceId);
      return createSalesforceRepo(db).upsert({
        workspaceId, instanceUrl, clientId: input.clientId, clientSecret: input.clientSecret ?? null,
        refreshToken: input.refreshToken ?? null, at: clock.now(),
      });
    },

    async get(workspaceId: string): Promise<SalesforceConnection> {
      const c = await createSalesforceRepo(db).find(workspaceId);
      if (!c) throw notConnected();
      return c;
    },

    async disconnect(workspaceId: string): Promise<void> {
      tokens.delete(workspaceId);
      if (!(await createSalesforceRepo(db).delete(workspaceId))) throw notConnected();
    },

    /**
     * Call inside the transaction that changed consent: queues a push when the workspace has a
     * connection and the email is known. A newer change to the same email replaces a pending one;
     * one queue per workspace keeps the pushes in order. Answers whether a push was queued.
     */
    async onConsentChange(tx: Queryable, change: ConsentChange): Promise<boolean> {
      if (!change.email || !(await createSalesforceRepo(tx).exists(change.workspaceId))) return false;
      const email = change.email.trim().toLowerCase();
      await enqueueJob(tx, PUSH_CONSENT_TASK, { workspaceId: change.workspaceId, email, optedOut: change.optedOut, at: change.at.toISOString() } satisfies PushJob, {
        jobKey: `${PUSH_CONSENT_TASK}:${change.workspaceId}:${email}`, queueName: `salesforce:${change.workspaceId}`, maxAttempts: 12,
      });
      return true;
    },

    /**
     * Pushes one opt-out state to every matching Lead and Contact. Throws on 5xx/429/network (the job
     * is retried with graphile's backoff); permanent failures are recorded as the last sync error.
     */
    async push(job: { workspaceId: string; email: string; optedOut: boolean }): Promise<PushResult> {
      const repo = createSalesforceRepo(db);
      const conn = await repo.find(job.workspaceId);
      if (!conn) return { skipped: 'not_connected' };
      // A token fetched for an older version of the connection is not used.
      const stamp = conn.updatedAt.getTime();
      const client = createSalesforceClient(deps.outbound, conn, {
        get: () => {
          const cached = tokens.get(job.workspaceId);
          return cached?.stamp === stamp ? cached.token : undefined;
        },
        set: (token) => {
          if (token) tokens.set(job.workspaceId, { stamp, token });
          else tokens.delete(job.workspaceId);
        },
      });
      const log = deps.log?.child({ workspaceId: job.workspaceId, task: PUSH_CONSENT_TASK });
      try {
        let pushed = 0;
        for (const sobject of ['Lead', 'Contact'] as const) {
          for (const id of await client.idsByEmail(sobject, job.email)) {
            await client.setOptedOut(sobject, id, job.optedOut);
            pushed++;
          }
        }
        await repo.recordSync(job.workspaceId, { at: clock.now(), ok: true, error: null, updated: pushed });
        log?.info({ pushed, optedOut: job.optedOut }, 'salesforce opt-out pushed');
        return { pushed };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        await repo.recordSync(job.workspaceId, { at: clock.now(), ok: false, error: isAppError(err) ? `${err.code}: ${message}` : message, updated: 0 });
        if (err instanceof RetryableSalesforceError) throw err;
        log?.warn({ err: message }, 'salesforce push failed for good');
        if (isAppError(err)) return { failed: err.code };
        throw err;
      }
    },

    tasks(): Record<string, Task> {
      return {
        [PUSH_CONSENT_TASK]: async (payload) => {
          if (!isPushJob(payload)) throw new Error(`${PUSH_CONSENT_TASK}: payload needs workspaceId, email, optedOut and at`);
          await this.push(payload);
        },
      };
    },
  };
}

export type SalesforceService = ReturnType<typeof createSalesforceService>;
