// The send job. A run claims, in one statement, its own message plus up to BATCH_SIZE more queued
// messages of the workspace that are due, and drops the jobs of those it took (their work is done
// here); then it makes every attempt at once: consent, render, tracking, the provider (through the
// sender's rate and concurrency limits), each outcome written together with others' (group commit).
// A message is claimed by one job run at a time (its lease, 'job:<id>'): a run that dies leaves its
// messages `sending` under its lease, and the same job, run again after recovery
// (src/worker/recovery.ts), takes them back and sends them again: the bounded duplicate of
// at-least-once delivery. Retryable failures back off exponentially with jitter under a job of their
// own; a permanent one fails that message alone.
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/pool.ts';
import { isAppError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { Metrics } from '../../metrics.ts';
import { removeWaitingJobs } from '../../worker/jobs.ts';
import type { RenderPerson } from '../content/index.ts';
import type { PeopleQueryService } from '../people/index.ts';
import { parseAddress, type ComposedEmail, type MessageComposer, type UnsubscribeLinks } from './compose-message.ts';
import type { DomainService } from './domains.ts';
import type { SenderLimiter } from './limiter.ts';
import { sendJobKey, type OutcomeWriter } from './outcomes.ts';
import { ProviderError } from './providers/types.ts';
import { createQueueRepo, type Outcome } from './queue-repo.ts';
import type { SenderService } from './senders.ts';
import type { DevInboxSink, EmailSender } from './smtp.ts';
import type { MessageRow } from './types.ts';

/** Messages one run takes besides its own: enough to keep a pool busy, few enough to bound a crash's duplicates. */
export const BATCH_SIZE = 50;
const MAX_ATTEMPTS = 8;

export interface ConsentGate {
  check(ws: string, who: { personId?: string; email?: string | null; phone?: string | null },
    what: { channel: 'email' | 'sms'; marketing: boolean; topic?: string | null; sendToUnsubscribed?: boolean }):
    Promise<{ allowed: true } | { allowed: false; reason: string }>;
  links(ws: string, opts: { personId: string; messageId?: string; topic?: string | null }): Promise<UnsubscribeLinks>;
}

/** Rewrites a rendered email before it is sent; the message row is given for its id and workspace. */
export type EmailTransform = (ws: string, m: MessageRow, email: ComposedEmail) => Promise<ComposedEmail>;

export interface ResolvedSender {
  sender: EmailSender; id: string; rate: number; concurrency: number;
  /** The sender's own from ("Name <address>"), used when the message does not name one. */
  from?: string | undefined;
}

/** Exponential backoff with ±20% jitter: 10 s, 20 s, 40 s … capped at an hour. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(10_000 * 2 ** Math.max(0, attempt - 1), 3_600_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

export function createSendBatch(deps: {
  db: Db; clock: Clock; log: Logger; composer: MessageComposer; domains: DomainService; peopleQuery: PeopleQueryService;
  devInbox: DevInboxSink; senders: SenderService; limiter: SenderLimiter; outcomes: OutcomeWriter;
  /** The workspace's default email sender (cached by the sender service). */
  emailSender(ws: string, source: string): Promise<ResolvedSender>;
  /** What the service was given after it was built (consent, tracking). */
  consent(): ConsentGate | undefined;
  transforms: readonly EmailTransform[];
  viewUrl(): ((ws: string, messageId: string) => Promise<string>) | undefined;
  metrics: Pick<Metrics, 'messages' | 'sendDuration'>;
}) {
  const { db, clock, log, limiter, outcomes, metrics } = deps;

  const done = async (ws: string, m: MessageRow, outcome: Omit<Outcome, 'id' | 'type'>, retryAt?: Date) => {
    await outcomes.write(ws, { message: m, outcome: { id: m.id, type: outcome.status, ...outcome }, retryAt });
    metrics.messages.inc({ channel: m.channel, outcome: outcome.status });
  };

  async function personFor(ws: string, personId: string | null): Promise<RenderPerson | undefined> {
    if (!personId) return undefined;
    try {
      const p = await deps.peopleQuery.get(ws, personId, 'id');
      return { id: p.id, externalId: p.userId, email: p.email, phone: p.phone, locale: p.locale, timezone: p.timezone, attributes: p.attributes };
    } catch {
      return undefined;
    }
  }

  async function retryLater(ws: string, m: MessageRow, err: ProviderError): Promise<void> {
    if (m.attempts >= MAX_ATTEMPTS) {
      await done(ws, m, { status: 'failed', data: { error: err.message, kind: err.kind }, statusReason: `gave up after ${m.attempts} attempts: ${err.message}` });
      return;
    }
    const delay = err.retryAfterMs ?? backoffMs(m.attempts);
    await done(ws, m, { status: 'retrying', data: { error: err.message, kind: err.kind, delayMs: delay }, statusReason: err.message },
      new Date(clock.now().getTime() + delay));
  }

  // SMS goes through the workspace's Twilio sender, else to the dev inbox.
  async function sendSms(ws: string, m: MessageRow, person: RenderPerson | undefined): Promise<void> {
    const sms = await deps.composer.sms(ws, m, person);
    const consent = deps.consent();
    if (consent) {
      const verdict = await consent.check(ws, { ...(m.personId ? { personId: m.personId } : {}), phone: m.to },
        { channel: 'sms', marketing: sms.marketing, topic: sms.topic, sendToUnsubscribed: (m.request as { sendToUnsubscribed?: boolean }).sendToUnsubscribed ?? false });
      if (!verdict.allowed) {
        await done(ws, m, { status: 'suppressed', data: { reason: verdict.reason }, statusReason: verdict.reason });
        return;
      }
    }
    const configured = await deps.senders.defaultFor(ws, 'sms');
    let provider = 'dev_inbox';
    let senderId = 'dev-inbox';
    let providerMessageId: string;
    if (configured?.sms) {
      const from = typeof configured.row.config['from'] === 'string' ? configured.row.config['from'] : '';
      const res = await limiter.run(configured.row.id, { rate: configured.row.ratePerSecond, concurrency: configured.row.concurrency },
        () => configured.sms!.send({ from: (m.request as { sms?: { from?: string } }).sms?.from ?? from, to: m.to, body: sms.body, messageId: m.id }));
      provider = configured.sms.name;
      senderId = configured.row.id;
      providerMessageId = res.providerMessageId;
    } else {
      providerMessageId = (await deps.devInbox.deliver(ws, { channel: 'sms', source: m.source, to: m.to, from: null, subject: null, html: null, text: sms.body, meta: { messageId: m.id } })).id;
    }
    await done(ws, m, { status: 'sent', data: { provider }, sent: {
      senderId, provider, providerMessageId, sentAt: clock.now(), templateVersion: sms.templateVersion, fromAddress: null,
      subject: null, html: null, text: m.retain ? sms.body : null,
    } });
  }

  async function sendEmail(ws: string, m: MessageRow, person: RenderPerson | undefined): Promise<void> {
    const consent = deps.consent();
    const viewUrl = deps.viewUrl();
    const links = m.personId && consent ? await consent.links(ws, { personId: m.personId, messageId: m.id }) : undefined;
    const view = viewUrl ? await viewUrl(ws, m.id) : undefined;
    const composed = await deps.composer.email(ws, m, person, links, view);
    // The consent check and the transforms (tracking records the links) go at the same time.
    const [verdict, email] = await Promise.all([
      consent?.check(ws, { ...(m.personId ? { personId: m.personId } : {}), email: m.to },
        { channel: 'email', marketing: composed.marketing, topic: composed.topic, sendToUnsubscribed: (m.request as { sendToUnsubscribed?: boolean }).sendToUnsubscribed ?? false }),
      (async () => {
        let e = composed;
        for (const transform of deps.transforms) e = await transform(ws, m, e);
        return e;
      })(),
    ]);
    if (verdict && !verdict.allowed) {
      await done(ws, m, { status: 'suppressed', data: { reason: verdict.reason }, statusReason: verdict.reason });
      return;
    }
    const { sender, id: senderId, rate, concurrency, from: senderFrom } = await deps.emailSender(ws, m.source);
    // From: the request's or template's own > the sender's > the workspace's (explicit > sender > workspace).
    const from = email.fromExplicit === false && senderFrom ? parseAddress(senderFrom) : email.from;
    const dkim = await deps.domains.dkimFor(ws, from.address);
    const result = await limiter.run(senderId, { rate, concurrency }, () => sender.send({
      from, to: { address: m.to }, ...(email.replyTo ? { replyTo: email.replyTo } : {}),
      subject: email.subject, html: email.html, text: email.text, headers: email.headers, messageId: m.id, dkim,
    }));
    await done(ws, m, { status: 'sent', data: { provider: sender.name }, sent: {
      senderId, provider: sender.name, providerMessageId: result.providerMessageId, sentAt: clock.now(),
      fromAddress: from.name ? `${from.name} <${from.address}>` : from.address,
      templateVersion: email.templateVersion,
      ...(m.retain ? { subject: email.subject, html: email.html, text: email.text } : { subject: null, html: null, text: null }),
    } });
  }

  /** One attempt of one claimed message; rejects only when its outcome could not be written. */
  async function attempt(ws: string, m: MessageRow): Promise<void> {
    const t0 = performance.now();
    try {
      await attemptOnce(ws, m);
    } finally {
      metrics.sendDuration.observe({ channel: m.channel }, (performance.now() - t0) / 1000);
    }
  }

  async function attemptOnce(ws: string, m: MessageRow): Promise<void> {
    const person = await personFor(ws, m.personId);
    try {
      if (m.channel === 'sms') await sendSms(ws, m, person);
      else await sendEmail(ws, m, person);
    } catch (err) {
      if (err instanceof ProviderError && err.kind !== 'permanent') {
        if (err.kind === 'rate_limited') limiter.slowDown((await deps.emailSender(ws, m.source).catch(() => ({ id: 'paused' }))).id, err.retryAfterMs ?? 30_000);
        log.warn({ messageId: m.id, kind: err.kind, attempt: m.attempts, detail: err.detail }, 'send failed; will retry');
        await retryLater(ws, m, err);
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      // The message itself is at fault (a template error, a provider's permanent answer): fail it alone.
      // Anything else (a dropped database connection, an unexpected error) is worth another attempt.
      if (!(err instanceof ProviderError) && !isAppError(err)) {
        log.warn({ messageId: m.id, err: message, attempt: m.attempts }, 'send interrupted; will retry');
        await retryLater(ws, m, new ProviderError(message.slice(0, 500), 'retryable'));
        return;
      }
      log.warn({ messageId: m.id, err: message, detail: err instanceof ProviderError ? err.detail : undefined }, 'send failed permanently');
      await done(ws, m, { status: 'failed', data: { error: message.slice(0, 500) }, statusReason: message.slice(0, 500) });
    }
  }

  return {
    /**
     * Claims and sends a batch under `lease` (`others`: how many due messages besides its own). Throws
     * when an outcome could not be written: those messages are still `sending` under the lease, and the
     * job's next run takes them back.
     */
    async run(ws: string, ownId: string, lease: string, opts: { others?: number } = {}): Promise<number> {
      const claimed = await createQueueRepo(db).claimBatch(ws, ownId, lease, clock.now(), opts.others ?? BATCH_SIZE);
      if (claimed.length === 0) return 0;
      // The jobs of the messages taken here would find nothing to do.
      await removeWaitingJobs(db, claimed.filter((m) => m.id !== ownId).map((m) => sendJobKey(ws, m.id)));
      const results = await Promise.allSettled(claimed.map((m) => attempt(ws, m)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return claimed.length;
    },
  };
}
