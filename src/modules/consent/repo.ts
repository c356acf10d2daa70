// The only SQL of the consent module: topics, per-person states, the ledger and suppressions.
import { sql } from 'kysely';
import type { Queryable } from '../../db/pool.ts';
import type {
  ConsentChannel, ConsentSource, LedgerEntry, LedgerKind, Suppression, SuppressionReason, Topic, TopicChannel,
  TopicDefault, TopicState,
} from './types.ts';

interface TopicRow {
  id: string; key: string; name: string; description: string; default_state: TopicDefault; channel: TopicChannel;
  double_opt_in: boolean; created_at: Date; updated_at: Date;
}

function toTopic(r: TopicRow): Topic {
  return {
    id: r.id, key: r.key, name: r.name, description: r.description, default: r.default_state, channel: r.channel,
    doubleOptIn: r.double_opt_in, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

export interface LedgerInsert {
  personId: string | null;
  kind: LedgerKind;
  channel: TopicChannel;
  address: string | null;
  topic: string | null;
  from: string;
  to: string;
  source: ConsentSource;
  ip: string | null;
  userAgent: string | null;
  messageId: string | null;
  at: Date;
}

export function createConsentRepo(db: Queryable) {
  return {
    /**
     * Two people merged: the secondary's topic states and global unsubscribes move to the primary,
     * keeping the stricter (an unsubscribe on either profile survives the merge).
     */
    async mergePeople(ws: string, primary: string, secondary: string): Promise<void> {
      await sql`
        INSERT INTO topic_subscriptions (workspace_id, person_id, topic_id, state, updated_at)
        SELECT workspace_id, ${primary}::uuid, topic_id, state, updated_at FROM topic_subscriptions
        WHERE workspace_id = ${ws} AND person_id = ${secondary}::uuid
        ON CONFLICT (workspace_id, person_id, topic_id) DO UPDATE SET
          state = CASE WHEN topic_subscriptions.state = 'unsubscribed' OR EXCLUDED.state = 'unsubscribed' THEN 'unsubscribed'
                       ELSE topic_subscriptions.state END,
          updated_at = greatest(topic_subscriptions.updated_at, EXCLUDED.updated_at)`.execute(db);
      await sql`
        INSERT INTO channel_consent (workspace_id, person_id, channel, unsubscribed, updated_at)
        SELECT workspace_id, ${primary}::uuid, channel, unsubscribed, updated_at FROM channel_consent
        WHERE workspace_id = ${ws} AND person_id = ${secondary}::uuid
        ON CONFLICT (workspace_id, person_id, channel) DO UPDATE SET
          unsubscribed = channel_consent.unsubscribed OR EXCLUDED.unsubscribed,
          updated_at = greatest(channel_consent.updated_at, EXCLUDED.updated_at)`.execute(db);
    },

    async insertTopic(ws: string, id: string, t: Omit<Topic, 'id' | 'createdAt' | 'updatedAt'>, at: Date): Promise<Topic | undefined> {
      const row = await db.insertInto('topics').values({
        workspace_id: ws, id, key: t.key, name: t.name, description: t.description, default_state: t.default,
        channel: t.channel, double_opt_in: t.doubleOptIn, created_at: at, updated_at: at,
      }).onConflict((oc) => oc.columns(['workspace_id', 'key']).doNothing()).returningAll().executeTakeFirst();
      return row && toTopic(row);
    },

    async updateTopic(ws: string, id: string, t: Omit<Topic, 'id' | 'createdAt' | 'updatedAt'>, at: Date): Promise<Topic | undefined> {
      const row = await db.updateTable('topics').set({
        key: t.key, name: t.name, description: t.description, default_state: t.default, channel: t.channel,
        double_opt_in: t.doubleOptIn, updated_at: at,
      }).where('workspace_id', '=', ws).where('id', '=', id).returningAll().executeTakeFirst();
      return row && toTopic(row);
    },

    async deleteTopic(ws: string, id: string): Promise<boolean> {
      const r = await db.deleteFrom('topics').where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
      return r.numDeletedRows > 0n;
    },

    async topic(ws: string, id: string): Promise<Topic | undefined> {
      const row = await db.selectFrom('topics').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
      return row && toTopic(row);
    },

    async topicByKey(ws: string, key: string): Promise<Topic | undefined> {
      const row = await db.selectFrom('topics').selectAll().where('workspace_id', '=', ws).where('key', '=', key).executeTakeFirst();
      return row && toTopic(row);
    },

    async topics(ws: string): Promise<Topic[]> {
      const rows = await db.selectFrom('topics').selectAll().where('workspace_id', '=', ws).orderBy('key').execute();
      return rows.map(toTopic);
    },

    /** The person's explicit topic states, by topic id. */
    async topicStates(ws: string, personId: string, opts: { forUpdate?: boolean } = {}): Promise<Map<string, { state: TopicState; updatedAt: Date }>> {
      let q = db.selectFrom('topic_subscriptions').select(['topic_id', 'state', 'updated_at'])
        .where('workspace_id', '=', ws).where('person_id', '=', personId);
      if (opts.forUpdate) q = q.forUpdate();
      const rows = await q.execute();
      return new Map(rows.map((r) => [r.topic_id, { state: r.state, updatedAt: r.updated_at }]));
    },

    async setTopicState(ws: string, personId: string, topicId: string, state: TopicState, at: Date): Promise<void> {
      await db.insertInto('topic_subscriptions').values({ workspace_id: ws, person_id: personId, topic_id: topicId, state, updated_at: at })
        .onConflict((oc) => oc.columns(['workspace_id', 'person_id', 'topic_id']).doUpdateSet({ state, updated_at: at }))
        .execute();
    },

    async confirmationSentAt(ws: string, personId: string, topicId: string): Promise<Date | null> {
      const row = await db.selectFrom('topic_subscriptions').select('confirmation_sent_at')
        .where('workspace_id', '=', ws).where('person_id', '=', personId).where('topic_id', '=', topicId).executeTakeFirst();
      return row?.confirmation_sent_at ?? null;
    },

    async markConfirmationSent(ws: string, personId: string, topicId: string, at: Date): Promise<void> {
      await db.updateTable('topic_subscriptions').set({ confirmation_sent_at: at })
        .where('workspace_id', '=', ws).where('person_id', '=', personId).where('topic_id', '=', topicId).execute();
    },

    async channelStates(ws: string, personId: string, opts: { forUpdate?: boolean } = {}): Promise<Map<ConsentChannel, boolean>> {
      let q = db.selectFrom('channel_consent').select(['channel', 'unsubscribed'])
        .where('workspace_id', '=', ws).where('person_id', '=', personId);
      if (opts.forUpdate) q = q.forUpdate();
      const rows = await q.execute();
      return new Map(rows.map((r) => [r.channel, r.unsubscribed]));
    },

    async setChannelState(ws: string, personId: string, channel: ConsentChannel, unsubscribed: boolean, at: Date): Promise<void> {
      await db.insertInto('channel_consent').values({ workspace_id: ws, person_id: personId, channel, unsubscribed, updated_at: at })
        .onConflict((oc) => oc.columns(['workspace_id', 'person_id', 'channel']).doUpdateSet({ unsubscribed, updated_at: at }))
        .execute();
    },

    /** Serialises consent changes of one person until the transaction ends (even before any state row exists). */
    async lockPerson(ws: string, personId: string): Promise<void> {
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`consent:${ws}:${personId}`}, 0))`.execute(db);
    },

    async insertLedger(ws: string, e: LedgerInsert): Promise<string> {
      const row = await db.insertInto('consent_ledger').values({
        workspace_id: ws, person_id: e.personId, kind: e.kind, channel: e.channel, address: e.address, topic: e.topic,
        from_state: e.from, to_state: e.to, source: e.source, ip: e.ip, user_agent: e.userAgent, message_id: e.messageId,
        created_at: e.at,
      }).returning('id').executeTakeFirstOrThrow();
      return row.id;
    },

    /** Newest first; `before` is an id from the previous page. */
    async ledger(ws: string, opts: { personId?: string | undefined; limit: number; before?: string | undefined }): Promise<LedgerEntry[]> {
      let q = db.selectFrom('consent_ledger').selectAll().where('workspace_id', '=', ws);
      if (opts.personId !== undefined) q = q.where('person_id', '=', opts.personId);
      if (opts.before !== undefined) q = q.where('id', '<', opts.before);
      const rows = await q.orderBy('id', 'desc').limit(opts.limit).execute();
      return rows.map((r) => ({
        id: r.id, personId: r.person_id, kind: r.kind, channel: r.channel, address: r.address, topic: r.topic,
        from: r.from_state, to: r.to_state, source: r.source as ConsentSource, ip: r.ip, userAgent: r.user_agent,
        messageId: r.message_id, at: r.created_at,
      }));
    },

    async insertSuppression(ws: string, s: Omit<Suppression, 'createdAt'>, at: Date): Promise<boolean> {
      const r = await db.insertInto('suppressions').values({
        workspace_id: ws, channel: s.channel, address: s.address, reason: s.reason, source: s.source, created_at: at,
      }).onConflict((oc) => oc.columns(['workspace_id', 'channel', 'address']).doNothing()).executeTakeFirst();
      return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
    },

    async deleteSuppression(ws: string, channel: ConsentChannel, address: string): Promise<boolean> {
      const r = await db.deleteFrom('suppressions').where('workspace_id', '=', ws).where('channel', '=', channel)
        .where('address', '=', address).executeTakeFirst();
      return r.numDeletedRows > 0n;
    },

    async suppressed(ws: string, channel: ConsentChannel, address: string): Promise<boolean> {
      const row = await db.selectFrom('suppressions').select('address').where('workspace_id', '=', ws)
        .where('channel', '=', channel).where('address', '=', address).executeTakeFirst();
      return row !== undefined;
    },

    /** Which of these (channel, address) pairs are on the suppression list, as `channel:address`: one statement. */
    async suppressedMany(ws: string, pairs: ReadonlyArray<{ channel: ConsentChannel; address: string }>): Promise<Set<string>> {
      if (pairs.length === 0) return new Set();
      const res = await sql<{ channel: string; address: string }>`
        SELECT s.channel, s.address FROM suppressions s
        JOIN unnest(${pairs.map((p) => p.channel)}::text[], ${pairs.map((p) => p.address)}::text[]) AS p(channel, address)
          ON s.channel = p.channel AND s.address = p.address
        WHERE s.workspace_id = ${ws}`.execute(db);
      return new Set(res.rows.map((r) => `${r.channel}:${r.address}`));
    },

    async suppression(ws: string, channel: ConsentChannel, address: string): Promise<Suppression | undefined> {
      const r = await db.selectFrom('suppressions').selectAll().where('workspace_id', '=', ws)
        .where('channel', '=', channel).where('address', '=', address).executeTakeFirst();
      return r && { channel: r.channel, address: r.address, reason: r.reason, source: r.source, createdAt: r.created_at };
    },

    /**
     * The suppression list as users see it, newest first: the address list, plus the emails of people
     * deleted and suppressed (the people module's marks, reason `deleted_person`), which stop sends as
     * well and so must not be invisible.
     */
    async suppressions(ws: string, opts: { channel?: ConsentChannel | undefined; reason?: SuppressionReason | undefined; address?: string | undefined; limit: number; offset: number }): Promise<Suppression[]> {
      const people = opts.channel !== 'sms' && (opts.reason === undefined || opts.reason === 'deleted_person');
      const res = await sql<{ channel: ConsentChannel; address: string; reason: SuppressionReason; source: string; created_at: Date }>`
        SELECT channel, address, reason, source, created_at FROM suppressions
        WHERE workspace_id = ${ws}
          AND (${opts.channel ?? null}::text IS NULL OR channel = ${opts.channel ?? null})
          AND (${opts.reason ?? null}::text IS NULL OR reason = ${opts.reason ?? null})
          AND (${opts.address ?? null}::text IS NULL OR address = ${opts.address ?? null})
        UNION ALL
        SELECT 'email', value, 'deleted_person', 'person_deleted', created_at FROM person_suppressions
        WHERE ${people} AND workspace_id = ${ws} AND kind = 'email'
          AND (${opts.address ?? null}::text IS NULL OR value = ${opts.address ?? null})
        ORDER BY created_at DESC, channel, address, reason
        LIMIT ${opts.limit} OFFSET ${opts.offset}`.execute(db);
      return res.rows.map((r) => ({ channel: r.channel, address: r.address, reason: r.reason, source: r.source, createdAt: r.created_at }));
    },
  };
}

export type ConsentRepo = ReturnType<typeof createConsentRepo>;
