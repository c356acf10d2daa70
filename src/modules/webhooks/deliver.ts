// One delivery attempt of one message to one endpoint: sign (Standard Webhooks), POST through the
// outbound guard without following redirects, record the attempt, then decide: 2xx delivered; 410
// disables the endpoint; anything else (a guard refusal and a timeout included) is tried again on
// the schedule in schedule.ts, by enqueueing the next attempt with a run time, until it runs out.
// The graphile job itself succeeds: the retry schedule is ours, not graphile's.
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/pool.ts';
import { isAppError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { OutboundClient } from '../../net/index.ts';
import { enqueueJob } from '../../worker/jobs.ts';
import { createWebhookRepo } from './repo.ts';
import { nextAttemptAt } from './schedule.ts';
import { webhookHeaders } from './signature.ts';

export const DELIVER_TASK = 'webhooks:deliver';
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Receivers answer a few bytes; a longer answer is cut off and counted as a failure (net.too_large). */
const MAX_RESPONSE_BYTES = 256 * 1024;

export interface DeliverJob {
  workspaceId: string;
  messageId: string;
  endpointId: string;
  /** 1-based; a job whose attempt is not the delivery's next one is a duplicate and does nothing. */
  attempt: number;
}

export function isDeliverJob(p: unknown): p is DeliverJob {
  if (p === null || typeof p !== 'object') return false;
  const { workspaceId, messageId, endpointId, attempt } = p as Record<string, unknown>;
  return typeof workspaceId === 'string' && typeof messageId === 'string' && typeof endpointId === 'string'
    && typeof attempt === 'number' && Number.isInteger(attempt) && attempt >= 1;
}

export type DeliveryOutcome =
  | { result: 'delivered'; httpStatus: number }
  | { result: 'retry'; at: Date; httpStatus: number | null; errorCode: string | null }
  | { result: 'failed'; httpStatus: number | null; errorCode: string | null }
  | { result: 'disabled' }
  | { result: 'skipped' };

export interface DeliverDeps {
  db: Db;
  clock: Clock;
  outbound: OutboundClient;
  log?: Logger;
  random?: () => number;
}

interface Answer {
  httpStatus: number | null;
  errorCode: string | null;
  error: string | null;
}

async function post(outbound: OutboundClient, url: string, headers: Record<string, string>, body: string, log?: Logger): Promise<Answer> {
  try {
    const res = await outbound.fetch(url, {
      method: 'POST', headers, body, redirect: 'manual', timeoutMs: DELIVERY_TIMEOUT_MS, maxBytes: MAX_RESPONSE_BYTES,
    });
    if (res.status >= 200 && res.status < 300) return { httpStatus: res.status, errorCode: null, error: null };
    const text = res.body.toString('utf8', 0, Math.min(res.body.length, 200)).trim();
    return { httpStatus: res.status, errorCode: null, error: `HTTP ${res.status}${text ? `: ${text}` : ''}` };
  } catch (err) {
    // The answer recorded (and shown) is coarse; the precise cause goes to the log only.
    const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
    log?.info({ errorCode: isAppError(err) ? err.code : 'net.unreachable', cause: cause ? { code: cause.code, message: cause.message } : undefined }, 'webhook delivery failed before an answer');
    if (isAppError(err)) return { httpStatus: null, errorCode: err.code, error: err.message };
    return { httpStatus: null, errorCode: 'net.unreachable', error: err instanceof Error ? err.message : String(err) };
  }
}

export async function deliverAttempt(deps: DeliverDeps, job: DeliverJob): Promise<DeliveryOutcome> {
  const { db, clock } = deps;
  const key = { workspaceId: job.workspaceId, messageId: job.messageId, endpointId: job.endpointId };
  const ctx = await createWebhookRepo(db).deliveryContext(job.workspaceId, job.messageId, job.endpointId);
  // Gone (endpoint or message deleted), already settled, or a duplicate of an attempt already made.
  if (!ctx || ctx.status !== 'pending' || ctx.attempts !== job.attempt - 1) return { result: 'skipped' };
  const log = deps.log?.child({ workspaceId: job.workspaceId, endpointId: job.endpointId, messageId: job.messageId, attempt: job.attempt });

  if (ctx.endpoint.status !== 'active') {
    await createWebhookRepo(db).advanceDelivery(key, ctx.attempts, { status: 'failed', attempts: ctx.attempts, nextAttemptAt: null, at: clock.now() });
    return { result: 'skipped' };
  }

  const body = JSON.stringify(ctx.payload);
  const at = clock.now();
  const headers = { ...webhookHeaders(ctx.endpoint.secret, ctx.messageId, at, body), 'user-agent': 'Tandem-Webhooks/1' };
  const started = performance.now();
  const answer = await post(deps.outbound, ctx.endpoint.url, headers, body, deps.log?.child({ workspaceId: job.workspaceId, endpointId: job.endpointId }));
  const durationMs = Math.round(performance.now() - started);

  const ok = answer.httpStatus !== null && answer.httpStatus >= 200 && answer.httpStatus < 300;
  const gone = answer.httpStatus === 410;
  const now = clock.now();
  const retryAt = ok || gone ? null : nextAttemptAt(job.attempt, now, deps.random);

  const outcome: DeliveryOutcome = await db.transaction().execute(async (tx) => {
    const repo = createWebhookRepo(tx);
    await repo.insertAttempt({ ...key, attempt: job.attempt, at, durationMs, ...answer });
    const status = ok ? 'delivered' : retryAt ? 'pending' : 'failed';
    const moved = await repo.advanceDelivery(key, ctx.attempts, { status, attempts: job.attempt, nextAttemptAt: retryAt, at: now });
    if (!moved) return { result: 'skipped' } as const;
    if (ok) return { result: 'delivered', httpStatus: answer.httpStatus ?? 200 } as const;
    if (gone) {
      await repo.updateEndpoint(job.workspaceId, job.endpointId, {
        status: 'disabled', disabledReason: 'The endpoint answered 410 Gone.', disabledAt: now, at: now,
      });
      return { result: 'disabled' } as const;
    }
    if (retryAt) {
      await enqueueJob(tx, DELIVER_TASK, { ...key, attempt: job.attempt + 1 } satisfies DeliverJob, { runAt: retryAt, maxAttempts: 5 });
      return { result: 'retry', at: retryAt, httpStatus: answer.httpStatus, errorCode: answer.errorCode } as const;
    }
    return { result: 'failed', httpStatus: answer.httpStatus, errorCode: answer.errorCode } as const;
  });

  if (outcome.result === 'disabled') log?.warn({ url: ctx.endpoint.url }, 'webhook endpoint answered 410 Gone: disabled');
  else if (outcome.result === 'failed') log?.warn({ httpStatus: answer.httpStatus, errorCode: answer.errorCode }, 'webhook delivery failed for good');
  else if (outcome.result === 'retry') log?.info({ httpStatus: answer.httpStatus, errorCode: answer.errorCode, retryAt: outcome.at }, 'webhook delivery failed; will retry');
  return outcome;
}
