// SQL of the delivery module: messages and their timeline, sending domains, senders, and the
// transactional API's Idempotency-Key answers.
import { sql } from 'kysely';
import { micros, type Keyset } from '../../db/keyset.ts';
import type { Queryable } from '../../db/pool.ts';
import type { MessageRow, SenderRow, SendingDomain } from './types.ts';

type MessageIn = Omit<MessageRow, 'attempts' | 'statusReason' | 'senderId' | 'provider' | 'providerMessageId' | 'fromAddress' | 'subject' | 'html' | 'text' | 'sentAt' | 'updatedAt'> & {
  /** A queued message goes no earlier than this. */
  dueAt: Date;
};

export function toMessage(r: {
  id: string; idempotency_key: string; person_id: string | null; channel: string; source: string; template_id: string | null;
  template_version: number | null; to_address: string; request: Record<string, unknown>; retain: boolean; status: string;
  status_reason: string | null; attempts: number; sender_id: string | null; provider: string | null; provider_message_id: string | null;
  from_address: string | null; subject: string | null; html: string | null; text: string | null; created_at: Date; updated_at: Date; sent_at: Date | null;
}): MessageRow {
  return {
    id: r.id, idempotencyKey: r.idempotency_key, personId: r.person_id, channel: r.channel as MessageRow['channel'], source: r.source,
    templateId: r.template_id, templateVersion: r.template_version, to: r.to_address, request: r.request, retain: r.retain,
    status: r.status as MessageRow['status'], statusReason: r.status_reason, attempts: r.attempts, senderId: r.sender_id, provider: r.provider,
    providerMessageId: r.provider_message_id, fromAddress: r.from_address, subject: r.subject, html: r.html, text: r.text,
    createdAt: r.created_at, updatedAt: r.updated_at, sentAt: r.sent_at,
  };
}

export function createDeliveryRepo(db: Queryable) {
  return {
    /** Inserts the message; undefined when its idempotency key already exists (the existing row wins). */
    async insertMessage(ws: string, m: MessageIn): Promise<MessageRow | undefined> {
      const row = await db.insertInto('messages').values({
        workspace_id: ws, id: m.id, idempotency_key: m.idempotencyKey, person_id: m.personId, channel: m.channel, source: m.source,
        template_id: m.templateId, template_version: m.templateVersion, to_address: m.to, request: JSON.stringify(m.request),
        retain: m.retain, status: m.status, created_at: m.createdAt, updated_at: m.createdAt, due_at: m.dueAt,
      }).onConflict((oc) => oc.columns(['workspace_id', 'idempotency_key']).doNothing()).returningAll().executeTakeFirst();
      return row && toMessage(row);
    },

    async messageByKey(ws: string, key: string): Promise<MessageRow | undefined> {
      const row = await db.selectFrom('messages').selectAll().where('workspace_id', '=', ws).where('idempotency_key', '=', key).executeTakeFirst();
      return row && toMessage(row);
    },

    async message(ws: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<MessageRow | undefined> {
      let q = db.selectFrom('messages').selectAll().where('workspace_id', '=', ws).where('id', '=', id);
      if (opts.forUpdate) q = q.forUpdate();
      const row = await q.executeTakeFirst();
      return row && toMessage(row);
    },

    async messageByProviderId(ws: string, providerMessageId: string): Promise<MessageRow | undefined> {
      const row = await db.selectFrom('messages').selectAll().where('workspace_id', '=', ws)
        .where('provider_message_id', '=', providerMessageId).executeTakeFirst();
      return row && toMessage(row);
    },

    /**
     * Newest first on (created_at, id), the messages_newest index; `after` is the last row of the previous
     * page, or `afterId` a message id whose position is looked up (an unknown id gives an empty page).
     */
    async listMessages(ws: string, opts: { limit: number; personId?: string | undefined; after?: Keyset | undefined; afterId?: string | undefined }): Promise<Array<MessageRow & { cursorTs: string }>> {
      let q = db.selectFrom('messages').selectAll().select(micros('created_at').as('cursor_ts')).where('workspace_id', '=', ws);
      if (opts.personId !== undefined) q = q.where('person_id', '=', opts.personId);
      if (opts.after) q = q.where(sql<boolean>`(created_at, id) < (${opts.after.ts}::timestamptz, ${opts.after.id})`);
      if (opts.afterId !== undefined) {
        q = q.where(sql<boolean>`(created_at, id) < (SELECT o.created_at, o.id FROM messages o WHERE o.workspace_id = ${ws} AND o.id = ${opts.afterId})`);
      }
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
      return rows.map((r) => ({ ...toMessage(r), cursorTs: r.cursor_ts }));
    },

    async updateMessage(ws: string, id: string, set: Partial<Pick<MessageRow, 'status' | 'statusReason' | 'attempts' | 'senderId' | 'provider' |
      'providerMessageId' | 'fromAddress' | 'subject' | 'html' | 'text' | 'sentAt' | 'personId' | 'templateId' | 'templateVersion'>> & { at: Date }): Promise<void> {
      await db.updateTable('messages').set({
        ...(set.status !== undefined ? { status: set.status } : {}),
        ...(set.statusReason !== undefined ? { status_reason: set.statusReason } : {}),
        ...(set.attempts !== undefined ? { attempts: set.attempts } : {}),
        ...(set.senderId !== undefined ? { sender_id: set.senderId } : {}),
        ...(set.provider !== undefined ? { provider: set.provider } : {}),
        ...(set.providerMessageId !== undefined ? { provider_message_id: set.providerMessageId } : {}),
        ...(set.fromAddress !== undefined ? { from_address: set.fromAddress } : {}),
        ...(set.subject !== undefined ? { subject: set.subject } : {}),
        ...(set.html !== undefined ? { html: set.html } : {}),
        ...(set.text !== undefined ? { text: set.text } : {}),
        ...(set.sentAt !== undefined ? { sent_at: set.sentAt } : {}),
        ...(set.personId !== undefined ? { person_id: set.personId } : {}),
        ...(set.templateId !== undefined ? { template_id: set.templateId } : {}),
        ...(set.templateVersion !== undefined ? { template_version: set.templateVersion } : {}),
        updated_at: set.at,
      }).where('workspace_id', '=', ws).where('id', '=', id).execute();
    },

    async addEvent(ws: string, messageId: string, type: string, at: Date, data: Record<string, unknown> = {}): Promise<void> {
      await db.insertInto('message_events').values({ workspace_id: ws, message_id: messageId, type, at, data: JSON.stringify(data) }).execute();
    },

    async events(ws: string, messageId: string): Promise<Array<{ type: string; at: Date; data: Record<string, unknown> }>> {
      return db.selectFrom('message_events').select(['type', 'at', 'data']).where('workspace_id', '=', ws).where('message_id', '=', messageId)
        .orderBy('seq').execute();
    },

    // --- Idempotency-Key ------------------------------------------------------------------------
    /** Claims the key (waiting for a concurrent claim of it to commit); false when it was already taken. */
    async claimKey(ws: string, route: string, key: string, hash: string, at: Date): Promise<boolean> {
      const res = await db.insertInto('api_idempotency').values({
        workspace_id: ws, route, key, request_hash: hash, status: 0, response: JSON.stringify(null), created_at: at,
      }).onConflict((oc) => oc.columns(['workspace_id', 'route', 'key']).doNothing()).executeTakeFirst();
      return (res.numInsertedOrUpdatedRows ?? 0n) > 0n;
    },

    async keyAnswer(ws: string, route: string, key: string): Promise<{ hash: string; status: number; response: unknown; createdAt: Date } | undefined> {
      const row = await db.selectFrom('api_idempotency').select(['request_hash', 'status', 'response', 'created_at'])
        .where('workspace_id', '=', ws).where('route', '=', route).where('key', '=', key).executeTakeFirst();
      return row && { hash: row.request_hash, status: row.status, response: row.response, createdAt: row.created_at };
    },

    async storeAnswer(ws: string, route: string, key: string, status: number, response: unknown): Promise<void> {
      await db.updateTable('api_idempotency').set({ status, response: JSON.stringify(response) })
        .where('workspace_id', '=', ws).where('route', '=', route).where('key', '=', key).execute();
    },

    async replaceKey(ws: string, route: string, key: string, hash: string, at: Date): Promise<void> {
      await db.updateTable('api_idempotency').set({ request_hash: hash, status: 0, response: JSON.stringify(null), created_at: at })
        .where('workspace_id', '=', ws).where('route', '=', route).where('key', '=', key).execute();
    },

    async purgeKeys(olderThan: Date): Promise<number> {
      const res = await db.deleteFrom('api_idempotency').where('created_at', '<', olderThan).executeTakeFirst();
      return Number(res.numDeletedRows);
    },

    // --- Sending domains ------------------------------------------------------------------------
    async insertDomain(ws: string, d: SendingDomain): Promise<SendingDomain | undefined> {
      const row = await db.insertInto('sending_domains').values({
        workspace_id: ws, domain: d.domain, selector: d.selector, private_key: d.privateKey, public_key: d.publicKey, created_at: d.createdAt,
      }).onConflict((oc) => oc.columns(['workspace_id', 'domain']).doNothing()).returningAll().executeTakeFirst();
      return row && { domain: row.domain, selector: row.selector, privateKey: row.private_key, publicKey: row.public_key, createdAt: row.created_at };
    },

    async domains(ws: string): Promise<SendingDomain[]> {
      const rows = await db.selectFrom('sending_domains').selectAll().where('workspace_id', '=', ws).orderBy('domain').execute();
      return rows.map((row) => ({ domain: row.domain, selector: row.selector, privateKey: row.private_key, publicKey: row.public_key, createdAt: row.created_at }));
    },

    async deleteDomain(ws: string, domain: string): Promise<boolean> {
      const res = await db.deleteFrom('sending_domains').where('workspace_id', '=', ws).where('domain', '=', domain).executeTakeFirst();
      return res.numDeletedRows > 0n;
    },

    // --- Senders -------------------------------------------------------------------------------
    async defaultSender(ws: string, channel: 'email' | 'sms'): Promise<SenderRow | undefined> {
      const row = await db.selectFrom('senders').selectAll().where('workspace_id', '=', ws).where('channel', '=', channel)
        .where('is_default', '=', true).executeTakeFirst();
      return row && {
        id: row.id, channel: row.channel, kind: row.kind, name: row.name, config: row.config, isDefault: row.is_default,
        ratePerSecond: Number(row.rate_per_second), concurrency: row.concurrency, status: row.status, pausedReason: row.paused_reason,
      };
    },

    /** A sender's sends since `since`, and how many of them bounced (hard) or drew a complaint. */
    async senderHealth(ws: string, senderId: string, since: Date): Promise<{ sent: number; bounced: number; complained: number }> {
      const row = await db.selectFrom('messages')
        .select([
          sql<string>`count(*)`.as('sent'),
          sql<string>`count(*) FILTER (WHERE status = 'bounced')`.as('bounced'),
          sql<string>`count(*) FILTER (WHERE status = 'complained')`.as('complained'),
        ])
        .where('workspace_id', '=', ws).where('sender_id', '=', senderId).where('sent_at', '>=', since)
        .executeTakeFirstOrThrow();
      return { sent: Number(row.sent), bounced: Number(row.bounced), complained: Number(row.complained) };
    },

    /** Forgets the HTML and text of messages sent before `before` (the subject and timeline stay). */
    async purgeContent(ws: string, before: Date): Promise<number> {
      const res = await db.updateTable('messages').set({ html: null, text: null })
        .where('workspace_id', '=', ws).where('sent_at', '<', before)
        .where((eb) => eb.or([eb('html', 'is not', null), eb('text', 'is not', null)])).executeTakeFirst();
      return Number(res.numUpdatedRows);
    },

    /** Messages per status, for the metrics and tests. */
    async statusCounts(ws: string): Promise<Record<string, number>> {
      const rows = await db.selectFrom('messages').select(['status', sql<string>`count(*)`.as('n')]).where('workspace_id', '=', ws).groupBy('status').execute();
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    },
  };
}

export type DeliveryRepo = ReturnType<typeof createDeliveryRepo>;
