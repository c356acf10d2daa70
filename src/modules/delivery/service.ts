// One message per intent: a send is a row with a unique idempotency key, inserted with its job in one
// transaction; the job (graphile-worker `delivery:send`) checks consent, renders, hands the message to
// the sender and records each step. Retryable failures back off exponentially with jitter; a
// permanent one fails that message alone.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import type { Db, Queryable } from '../../db/pool.ts';
import type { Logger } from '../../logger.ts';
import { isAppError } from '../../errors.ts';
import { enqueueJob } from '../../worker/jobs.ts';
import type { RenderPerson } from '../content/index.ts';
import type { PeopleQueryService } from '../people/index.ts';
import type { ComposedEmail, MessageComposer, UnsubscribeLinks } from './compose-message.ts';
import type { DomainService } from './domains.ts';
import { SenderLimiter } from './limiter.ts';
import { ProviderError } from './providers/types.ts';
import { createDeliveryRepo } from './repo.ts';
import type { SenderService } from './senders.ts';
import { createDevInboxSender, createSmtpSender, type DevInboxSink, type EmailSender } from './smtp.ts';
import type { MessageRow, MessageStatus } from './types.ts';

export const SEND_TASK = 'delivery:send';
const MAX_ATTEMPTS = 8;

export interface ConsentGate {
  check(ws: string, who: { personId?: string; email?: string | null; phone?: string | null },
    what: { channel: 'email' | 'sms'; marketing: boolean; topic?: string | null; sendToUnsubscribed?: boolean }):
    Promise<{ allowed: true } | { allowed: false; reason: string }>;
  links(ws: string, opts: { personId: string; messageId?: string; topic?: string | null }): Promise<UnsubscribeLinks>;
}

/** Rewrites a rendered email before it is sent; the message row is given for its id and workspace. */
export type EmailTransform = (ws: string, m: MessageRow, email: ComposedEmail) => Promise<ComposedEmail>;

/** Called inside the transaction that records a delivery event (outbound webhooks subscribe here). */
export type MessageEventHook = (db: Queryable, ws: string, type: string, message: MessageRow, data: Record<string, unknown>) => Promise<void>;

export interface NewMessage {
  idempotencyKey: string;
  source: string;
  channel: 'email' | 'sms';
  to: string;
  personId: string | null;
  templateId: string | null;
  request: Record<string, unknown>;
  retain: boolean;
  /** Send no earlier than this. */
  runAt?: Date;
}

export function newMessageId(): string {
  return `dlv_${randomBytes(12).toString('hex')}`;
}

/** Exponential backoff with ±20% jitter: 10 s, 20 s, 40 s … capped at an hour. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(10_000 * 2 ** Math.max(0, attempt - 1), 3_600_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

export function createDeliveryService(deps: {
  db: Db; clock: Clock; log: Logger; config: Pick<Config, 'smtpUrl' | 'publicUrl'>;
  composer: MessageComposer; domains: DomainService; peopleQuery: PeopleQueryService; devInbox: DevInboxSink; senders: SenderService;
  /** Workspaces and their settings (the message retention). */
  workspaces: { list(): Promise<Array<{ id: string; settings: { messageRetentionDays?: number } }>> };
}) {
  const { db, clock, log } = deps;
  let consent: ConsentGate | undefined;
  const transforms: EmailTransform[] = [];
  let viewUrl: ((ws: string, messageId: string) => Promise<string>) | undefined;
  const hooks: MessageEventHook[] = [];
  const limiter = new SenderLimiter(clock);
  // One pooled SMTP transport per process for TANDEM_SMTP_URL.
  let envSmtp: EmailSender | undefined;

  /** The workspace's default email sender, else TANDEM_SMTP_URL, else the dev inbox. */
  async function emailSender(ws: string, source: string): Promise<{ sender: EmailSender; id: string; rate: number; concurrency: number }> {
    const configured = await deps.senders.defaultFor(ws, 'email');
    if (configured?.email) {
      if (configured.row.status === 'paused') {
        throw new ProviderError(`The sender "${configured.row.name}" is paused: ${configured.row.pausedReason ?? ''}`, 'rate_limited', undefined, 300_000);
      }
      return { sender: configured.email, id: configured.row.id, rate: configured.row.ratePerSecond, concurrency: configured.row.concurrency };
    }
    if (deps.config.smtpUrl) {
      envSmtp ??= createSmtpSender({ url: deps.config.smtpUrl, poolSize: 5 });
      return { sender: envSmtp, id: 'env-smtp', rate: Number.POSITIVE_INFINITY, concurrency: 20 };
    }
    return { sender: createDevInboxSender(deps.devInbox, ws, source), id: 'dev-inbox', rate: Number.POSITIVE_INFINITY, concurrency: 50 };
  }

  async function record(tx: Queryable, ws: string, m: MessageRow, type: string, status: MessageStatus | undefined, data: Record<string, unknown> = {},
    set: Omit<Parameters<ReturnType<typeof createDeliveryRepo>['updateMessage']>[2], 'at'> | undefined = undefined): Promise<void> {
    const repo = createDeliveryRepo(tx);
    const at = clock.now();
    if (status !== undefined || set) await repo.updateMessage(ws, m.id, { ...set, ...(status ? { status } : {}), at });
    await repo.addEvent(ws, m.id, type, at, data);
    const updated = { ...m, ...(status ? { status } : {}) };
    for (const hook of hooks) await hook(tx, ws, type, updated, data);
  }

  async function personFor(ws: string, personId: string | null): Promise<RenderPerson | undefined> {
    if (!personId) return undefined;
    try {
      const p = await deps.peopleQuery.get(ws, personId, 'id');
      return { id: p.id, externalId: p.userId, email: p.email, phone: p.phone, locale: p.locale, timezone: p.timezone, attributes: p.attributes };
    } catch {
      return undefined;
    }
  }

  async function retryLater(ws: string, m: MessageRow, err: ProviderError, attempt: number): Promise<void> {
    if (attempt >= MAX_ATTEMPTS) {
      await db.transaction().execute((tx) => record(tx, ws, m, 'failed', 'failed', { error: err.message, kind: err.kind }, { statusReason: `gave up after ${attempt} attempts: ${err.message}` }));
      return;
    }
    const delay = err.retryAfterMs ?? backoffMs(attempt);
    await db.transaction().execute(async (tx) => {
      await record(tx, ws, m, 'retrying', 'retrying', { error: err.message, kind: err.kind, delayMs: delay }, { statusReason: err.message });
      await enqueueJob(tx, SEND_TASK, { workspaceId: ws, messageId: m.id }, { runAt: new Date(clock.now().getTime() + delay), jobKey: `send:${ws}:${m.id}` });
    });
  }

  // SMS goes through the workspace's Twilio sender, else to the dev inbox.
  async function sendSms(ws: string, m: MessageRow, person: RenderPerson | undefined): Promise<void> {
    const sms = await deps.composer.sms(ws, m, person);
    if (consent) {
      const verdict = await consent.check(ws, { ...(m.personId ? { personId: m.personId } : {}), phone: m.to },
        { channel: 'sms', marketing: sms.marketing, topic: sms.topic, sendToUnsubscribed: (m.request as { sendToUnsubscribed?: boolean }).sendToUnsubscribed ?? false });
      if (!verdict.allowed) {
        await db.transaction().execute((tx) => record(tx, ws, m, 'suppressed', 'suppressed', { reason: verdict.reason }, { statusReason: verdict.reason }));
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
    await db.transaction().execute((tx) => record(tx, ws, m, 'sent', 'sent', { provider }, {
      senderId, provider, providerMessageId, sentAt: clock.now(), templateVersion: sms.templateVersion,
      ...(m.retain ? { text: sms.body } : {}),
    }));
  }

  async function send(ws: string, messageId: string): Promise<void> {
    // Claim: only a queued or retrying message is sent, and the attempt is counted before the provider sees it.
    // A message still 'sending' when its job runs was interrupted (the worker died, or the job threw
    // after the claim): a message has one job at a time (its job key), so it is sent again; the
    // provider may already have it, the bounded duplicate of at-least-once delivery.
    // One statement: the row lock of the UPDATE makes concurrent claims of one message take turns.
    const claimed = await createDeliveryRepo(db).claim(ws, messageId, clock.now());
    if (!claimed) return;
    const m = claimed;
    const request = m.request as { sendToUnsubscribed?: boolean };
    const person = await personFor(ws, m.personId);
    try {
      if (m.channel === 'sms') {
        await sendSms(ws, m, person);
        return;
      }
      const links = m.personId && consent ? await consent.links(ws, { personId: m.personId, messageId: m.id }) : undefined;
      const view = viewUrl ? await viewUrl(ws, m.id) : undefined;
      let email = await deps.composer.email(ws, m, person, links, view);
      for (const transform of transforms) email = await transform(ws, m, email);
      if (consent) {
        const verdict = await consent.check(ws, { ...(m.personId ? { personId: m.personId } : {}), email: m.to },
          { channel: 'email', marketing: email.marketing, topic: email.topic, sendToUnsubscribed: request.sendToUnsubscribed ?? false });
        if (!verdict.allowed) {
          await db.transaction().execute((tx) => record(tx, ws, m, 'suppressed', 'suppressed', { reason: verdict.reason }, { statusReason: verdict.reason }));
          return;
        }
      }
      const { sender, id: senderId, rate, concurrency } = await emailSender(ws, m.source);
      const dkim = await deps.domains.dkimFor(ws, email.from.address);
      const result = await limiter.run(senderId, { rate, concurrency }, () => sender.send({
        from: email.from, to: { address: m.to }, ...(email.replyTo ? { replyTo: email.replyTo } : {}),
        subject: email.subject, html: email.html, text: email.text, headers: email.headers, messageId: m.id, dkim,
      }));
      await db.transaction().execute((tx) => record(tx, ws, m, 'sent', 'sent', { provider: sender.name }, {
        senderId, provider: sender.name, providerMessageId: result.providerMessageId, sentAt: clock.now(),
        fromAddress: email.from.name ? `${email.from.name} <${email.from.address}>` : email.from.address,
        templateVersion: email.templateVersion,
        ...(m.retain ? { subject: email.subject, html: email.html, text: email.text } : { subject: null, html: null, text: null }),
      }));
    } catch (err) {
      if (err instanceof ProviderError && err.kind !== 'permanent') {
        if (err.kind === 'rate_limited') limiter.slowDown((await emailSender(ws, m.source).catch(() => ({ id: 'paused' }))).id, err.retryAfterMs ?? 30_000);
        log.warn({ messageId: m.id, kind: err.kind, attempt: m.attempts }, 'send failed; will retry');
        await retryLater(ws, m, err, m.attempts);
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      // The message itself is at fault (a template error, a provider's permanent answer): fail it alone.
      // Anything else (a dropped database connection, an unexpected error) is worth another attempt.
      if (!(err instanceof ProviderError) && !isAppError(err)) {
        log.warn({ messageId: m.id, err: message, attempt: m.attempts }, 'send interrupted; will retry');
        await retryLater(ws, m, new ProviderError(message.slice(0, 500), 'retryable'), m.attempts);
        return;
      }
      log.warn({ messageId: m.id, err: message }, 'send failed permanently');
      await db.transaction().execute((tx) => record(tx, ws, m, 'failed', 'failed', { error: message.slice(0, 500) }, { statusReason: message.slice(0, 500) }));
    }
  }

  return {
    /** Rewrites each email after rendering, before sending (click tracking, the open pixel). */
    useTransform(transform: EmailTransform): void {
      transforms.push(transform);
    },
    /** Makes `{% view_in_browser_url %}` print this message's view-in-browser URL. */
    useViewUrl(fn: (ws: string, messageId: string) => Promise<string>): void {
      viewUrl = fn;
    },
    useConsent(gate: ConsentGate): void {
      consent = gate;
    },
    onMessageEvent(hook: MessageEventHook): void {
      hooks.push(hook);
    },

    /** Inserts the message and its job in the caller's transaction; an existing idempotency key answers the existing message. */
    async enqueue(tx: Queryable, ws: string, input: NewMessage): Promise<{ message: MessageRow; created: boolean }> {
      const repo = createDeliveryRepo(tx);
      const at = clock.now();
      const { runAt, ...row } = input;
      const inserted = await repo.insertMessage(ws, { ...row, id: newMessageId(), templateVersion: null, status: 'queued', createdAt: at });
      if (!inserted) {
        const existing = await repo.messageByKey(ws, input.idempotencyKey);
        if (!existing) throw new Error(`message with key ${input.idempotencyKey} vanished`);
        return { message: existing, created: false };
      }
      await repo.addEvent(ws, inserted.id, 'queued', at);
      for (const hook of hooks) await hook(tx, ws, 'queued', inserted, {});
      await enqueueJob(tx, SEND_TASK, { workspaceId: ws, messageId: inserted.id }, { jobKey: `send:${ws}:${inserted.id}`, ...(runAt ? { runAt } : {}) });
      return { message: inserted, created: true };
    },

    send,

    /** Records a delivery event (from a provider's notification) with the hooks, in its own transaction. */
    async recordEvent(ws: string, m: MessageRow, type: string, status: MessageStatus | undefined, data: Record<string, unknown>): Promise<void> {
      await db.transaction().execute((tx) => record(tx, ws, m, type, status, data));
    },

    async message(ws: string, id: string) {
      const repo = createDeliveryRepo(db);
      const m = await repo.message(ws, id);
      return m && { ...m, events: await repo.events(ws, id) };
    },

    list(ws: string, opts: { limit: number; personId?: string | undefined; before?: string | undefined }) {
      return createDeliveryRepo(db).listMessages(ws, opts);
    },

    tasks() {
      return {
        [SEND_TASK]: async (payload: unknown) => {
          const p = payload as { workspaceId?: string; messageId?: string };
          if (typeof p.workspaceId !== 'string' || typeof p.messageId !== 'string') return;
          await send(p.workspaceId, p.messageId);
        },
        // Daily: the rendered content of messages older than each workspace's retention is forgotten.
        'delivery:purge_content': async () => {
          for (const w of await deps.workspaces.list()) {
            const days = w.settings.messageRetentionDays;
            if (typeof days === 'number' && days > 0) {
              await createDeliveryRepo(db).purgeContent(w.id, new Date(clock.now().getTime() - days * 86_400_000));
            }
          }
        },
        'delivery:purge_idempotency': async () => {
          await createDeliveryRepo(db).purgeKeys(new Date(clock.now().getTime() - 24 * 3600_000));
        },
      };
    },

    async close(): Promise<void> {
      await deps.senders.close();
      await envSmtp?.close?.();
      envSmtp = undefined;
    },
  };
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;
