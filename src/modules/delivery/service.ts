// One message per intent: a send is a row with a unique idempotency key, inserted with its job in one
// transaction. The job (graphile-worker `delivery:send`, send-batch.ts) claims its message and a batch
// of other due ones, checks consent, renders, hands them to the sender and records each outcome
// (outcomes.ts). Retryable failures back off exponentially with jitter; a permanent one fails that
// message alone.
import { randomBytes } from 'node:crypto';
import type { JobHelpers } from 'graphile-worker';
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import type { Db, Queryable } from '../../db/pool.ts';
import { decodeCursor, pageOf } from '../../db/keyset.ts';
import type { Logger } from '../../logger.ts';
import type { Metrics } from '../../metrics.ts';
import { enqueueJob } from '../../worker/jobs.ts';
import type { PeopleQueryService } from '../people/index.ts';
import { AppError } from '../../errors.ts';
import { messageIdHeader, parseAddress, type MessageComposer } from './compose-message.ts';
import type { DomainService } from './domains.ts';
import { SenderLimiter } from './limiter.ts';
import { createOutcomeWriter, SEND_TASK, sendJobKey, type HookEntry, type MessageEventHook } from './outcomes.ts';
import { ProviderError } from './providers/types.ts';
import { createQueueRepo } from './queue-repo.ts';
import { createDeliveryRepo } from './repo.ts';
import { createSendBatch, type ConsentGate, type EmailTransform, type ResolvedSender } from './send-batch.ts';
import type { SenderService } from './senders.ts';
import { createDevInboxSender, createSmtpSender, type DevInboxSink, type EmailSender } from './smtp.ts';
import type { MessageRow, MessageStatus } from './types.ts';

export { SEND_TASK, type MessageEventHook } from './outcomes.ts';
export { backoffMs, type ConsentGate, type EmailTransform } from './send-batch.ts';

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

export function createDeliveryService(deps: {
  db: Db; clock: Clock; log: Logger; config: Pick<Config, 'smtpUrl' | 'publicUrl'>;
  composer: MessageComposer; domains: DomainService; peopleQuery: PeopleQueryService; devInbox: DevInboxSink; senders: SenderService;
  /** Workspaces and their settings (the message retention). */
  workspaces: { list(): Promise<Array<{ id: string; settings: { messageRetentionDays?: number } }>> };
  metrics: Pick<Metrics, 'messages' | 'sendDuration'>;
}) {
  const { db, clock } = deps;
  let consent: ConsentGate | undefined;
  const transforms: EmailTransform[] = [];
  let viewUrl: ((ws: string, messageId: string) => Promise<string>) | undefined;
  const hooks: HookEntry[] = [];
  const limiter = new SenderLimiter(clock);
  // One pooled SMTP transport per process for TANDEM_SMTP_URL.
  let envSmtp: EmailSender | undefined;

  /** The workspace's default email sender, else TANDEM_SMTP_URL, else the dev inbox. */
  async function emailSender(ws: string, source: string): Promise<ResolvedSender> {
    const configured = await deps.senders.defaultFor(ws, 'email');
    if (configured?.email) {
      if (configured.row.status === 'paused') {
        throw new ProviderError(`The sender "${configured.row.name}" is paused: ${configured.row.pausedReason ?? ''}`, 'rate_limited', undefined, 300_000);
      }
      const from = configured.row.config['from'];
      return {
        sender: configured.email, id: configured.row.id, rate: configured.row.ratePerSecond, concurrency: configured.row.concurrency,
        ...(typeof from === 'string' && from !== '' ? { from } : {}),
      };
    }
    if (deps.config.smtpUrl) {
      // The operator's own relay (TANDEM_SMTP_URL) is trusted: it may be on localhost or the private network.
      envSmtp ??= createSmtpSender({ url: deps.config.smtpUrl, poolSize: 5, allowPrivate: true });
      return { sender: envSmtp, id: 'env-smtp', rate: Number.POSITIVE_INFINITY, concurrency: 20 };
    }
    return { sender: createDevInboxSender(deps.devInbox, ws, source), id: 'dev-inbox', rate: Number.POSITIVE_INFINITY, concurrency: 50 };
  }

  const outcomes = createOutcomeWriter({ db, clock, hooks });
  const batch = createSendBatch({
    db, clock, log: deps.log, composer: deps.composer, domains: deps.domains, peopleQuery: deps.peopleQuery, devInbox: deps.devInbox,
    senders: deps.senders, limiter, outcomes, emailSender, consent: () => consent, transforms, viewUrl: () => viewUrl, metrics: deps.metrics,
  });

  /** One event outside a send (a provider's notification, an open or a click): its row, event and hooks in one transaction. */
  async function record(tx: Queryable, ws: string, m: MessageRow, type: string, status: MessageStatus | undefined, data: Record<string, unknown>): Promise<void> {
    const repo = createDeliveryRepo(tx);
    const at = clock.now();
    if (status !== undefined) await repo.updateMessage(ws, m.id, { status, at });
    await repo.addEvent(ws, m.id, type, at, data);
    const updated = { ...m, ...(status ? { status } : {}) };
    for (const { hook, wants } of hooks) {
      if (!wants || await wants(ws, type, updated)) await hook(tx, ws, type, updated, data);
    }
  }

  /** Inserts the message and its job in the caller's transaction; an existing idempotency key answers the existing message. */
  async function enqueue(tx: Queryable, ws: string, input: NewMessage): Promise<{ message: MessageRow; created: boolean }> {
    const repo = createDeliveryRepo(tx);
    const at = clock.now();
    const { runAt, ...row } = input;
    const inserted = await repo.insertMessage(ws, { ...row, id: newMessageId(), templateVersion: null, status: 'queued', createdAt: at, dueAt: runAt ?? at });
    if (!inserted) {
      const existing = await repo.messageByKey(ws, input.idempotencyKey);
      if (!existing) throw new Error(`message with key ${input.idempotencyKey} vanished`);
      return { message: existing, created: false };
    }
    await repo.addEvent(ws, inserted.id, 'queued', at);
    for (const { hook, wants } of hooks) {
      if (!wants || await wants(ws, 'queued', inserted)) await hook(tx, ws, 'queued', inserted, {});
    }
    await enqueueJob(tx, SEND_TASK, { workspaceId: ws, messageId: inserted.id }, { jobKey: sendJobKey(ws, inserted.id), ...(runAt ? { runAt } : {}) });
    return { message: inserted, created: true };
  }

  /** Sends this message now, outside its job (tests; a held message): no other message is taken. */
  async function send(ws: string, messageId: string): Promise<void> {
    await batch.run(ws, messageId, `call:${randomBytes(8).toString('hex')}`, { others: 0 });
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
    /**
     * `hook` runs inside the transaction that records each delivery event; `wants` (from its owner's
     * caches) says whether it does anything for the event, so that sends skip the transaction when
     * nothing listens.
     */
    onMessageEvent(hook: MessageEventHook, opts: { wants?: HookEntry['wants'] } = {}): void {
      hooks.push({ hook, wants: opts.wants });
    },

    enqueue,

    /**
     * enqueue() without a transaction of the caller's: one statement (the message, its event and its job)
     * when no hook wants this message's `queued` event, else a transaction of its own.
     */
    async enqueueNow(ws: string, input: NewMessage): Promise<{ message: MessageRow; created: boolean }> {
      const at = clock.now();
      const { runAt, ...row } = input;
      const draft: MessageRow = {
        ...row, id: newMessageId(), templateVersion: null, status: 'queued', statusReason: null, attempts: 0, senderId: null, provider: null,
        providerMessageId: null, fromAddress: null, subject: null, html: null, text: null, createdAt: at, updatedAt: at, sentAt: null,
      };
      for (const { wants } of hooks) {
        if (!wants || await wants(ws, 'queued', draft)) return db.transaction().execute((tx) => enqueue(tx, ws, input));
      }
      const inserted = await createQueueRepo(db).insertQueued(ws, { ...draft, dueAt: runAt ?? at }, { task: SEND_TASK, key: sendJobKey(ws, draft.id), runAt: runAt ?? null });
      if (inserted) return { message: inserted, created: true };
      const existing = await createDeliveryRepo(db).messageByKey(ws, input.idempotencyKey);
      if (!existing) throw new Error(`message with key ${input.idempotencyKey} vanished`);
      return { message: existing, created: false };
    },

    send,

    /**
     * A template's test send, through the workspace's sender (else TANDEM_SMTP_URL) with the same from
     * resolution and DKIM as real sends; undefined when neither exists (the caller uses the dev inbox).
     * No message row, no consent check: it goes to the address the operator typed.
     */
    async sendTest(ws: string, e: { to: string; from: { address: string; name?: string }; fromExplicit: boolean; replyTo?: string | undefined; subject: string; html: string; text: string }): Promise<{ senderId: string; provider: string; providerMessageId: string } | undefined> {
      const configured = await deps.senders.defaultFor(ws, 'email');
      if (!configured?.email && !deps.config.smtpUrl) return undefined;
      const { sender, id, from: senderFrom } = await emailSender(ws, 'test');
      const from = !e.fromExplicit && senderFrom ? parseAddress(senderFrom) : e.from;
      const messageId = `test_${randomBytes(12).toString('hex')}`;
      try {
        const result = await sender.send({
          from, to: { address: e.to }, ...(e.replyTo ? { replyTo: e.replyTo } : {}), subject: e.subject, html: e.html, text: e.text,
          headers: { 'Message-ID': messageIdHeader(messageId, deps.config.publicUrl) }, messageId, dkim: await deps.domains.dkimFor(ws, from.address),
        });
        return { senderId: id, provider: sender.name, providerMessageId: result.providerMessageId };
      } catch (err) {
        // The provider's words stay in the log; the answer is coarse.
        deps.log.warn({ workspaceId: ws, senderId: id, err: err instanceof Error ? err.message : String(err) }, 'test send failed');
        throw new AppError('send.test_failed', undefined, { field: 'to' });
      }
    },

    /** Records a delivery event (from a provider's notification) with the hooks, in its own transaction. */
    async recordEvent(ws: string, m: MessageRow, type: string, status: MessageStatus | undefined, data: Record<string, unknown>): Promise<void> {
      await db.transaction().execute((tx) => record(tx, ws, m, type, status, data));
    },

    async message(ws: string, id: string) {
      const repo = createDeliveryRepo(db);
      const m = await repo.message(ws, id);
      return m && { ...m, events: await repo.events(ws, id) };
    },

    /** Newest first; `cursor` is the previous page's nextCursor, `before` (older clients) a message id. */
    async list(ws: string, opts: { limit: number; personId?: string | undefined; cursor?: string | undefined; before?: string | undefined }) {
      const after = opts.cursor !== undefined ? decodeCursor(opts.cursor, (id) => /^[A-Za-z0-9_-]{1,100}$/.test(id)) : undefined;
      const rows = await createDeliveryRepo(db).listMessages(ws, { limit: opts.limit + 1, personId: opts.personId, after, afterId: opts.before });
      const { page, nextCursor } = pageOf(rows, opts.limit, (m) => ({ ts: m.cursorTs, id: m.id }));
      return { messages: page, nextCursor };
    },

    tasks() {
      return {
        // The lease is the job's id: a run of this job after a crash takes back what the dead one claimed.
        [SEND_TASK]: async (payload: unknown, helpers?: JobHelpers) => {
          const p = payload as { workspaceId?: string; messageId?: string };
          if (typeof p.workspaceId !== 'string' || typeof p.messageId !== 'string') return;
          if (!helpers) await send(p.workspaceId, p.messageId);
          else await batch.run(p.workspaceId, p.messageId, `job:${helpers.job.id}`);
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
