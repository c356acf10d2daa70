// The only SQL of the webhooks module.
import { sql } from 'kysely';
import type { Queryable } from '../../db/pool.ts';
import type { DeliveryStatus, EndpointMessage, EndpointStatus, WebhookAttempt, WebhookEndpoint, WebhookEndpointWithSecret, WebhookPayload } from './types.ts';

interface EndpointRow {
  id: string; url: string; description: string; event_types: string[]; secret: string; status: EndpointStatus;
  disabled_reason: string | null; disabled_at: Date | null; created_at: Date; updated_at: Date;
}

/** What one delivery attempt needs: the endpoint, the message and the delivery's state. */
export interface DeliveryContext {
  endpoint: WebhookEndpointWithSecret;
  messageId: string;
  payload: WebhookPayload;
  status: DeliveryStatus;
  attempts: number;
}

export function createWebhookRepo(db: Queryable) {
  return {
    async insertEndpoint(e: { workspaceId: string; id: string; url: string; description: string; eventTypes: string[]; secret: string; at: Date }): Promise<WebhookEndpointWithSecret> {
      const row = await db.insertInto('webhook_endpoints').values({
        workspace_id: e.workspaceId, id: e.id, url: e.url, description: e.description, event_types: e.eventTypes,
        secret: e.secret, status: 'active', disabled_reason: null, disabled_at: null, created_at: e.at, updated_at: e.at,
      }).returningAll().executeTakeFirstOrThrow();
      return withSecret(row);
    },

    async findEndpoint(workspaceId: string, id: string): Promise<WebhookEndpointWithSecret | undefined> {
      const row = await db.selectFrom('webhook_endpoints').selectAll()
        .where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
      return row && withSecret(row);
    },

    /** Oldest first, after the endpoint `after` (exclusive). */
    async listEndpoints(workspaceId: string, opts: { limit: number; after?: { createdAt: Date; id: string } | undefined }): Promise<WebhookEndpoint[]> {
      let q = db.selectFrom('webhook_endpoints').selectAll().where('workspace_id', '=', workspaceId);
      const after = opts.after;
      if (after) q = q.where((eb) => eb.or([eb('created_at', '>', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)])]));
      const rows = await q.orderBy('created_at').orderBy('id').limit(opts.limit).execute();
      return rows.map(toEndpoint);
    },

    async updateEndpoint(workspaceId: string, id: string, set: {
      url?: string; description?: string; eventTypes?: string[]; secret?: string;
      status?: EndpointStatus; disabledReason?: string | null; disabledAt?: Date | null; at: Date;
    }): Promise<WebhookEndpointWithSecret | undefined> {
      const row = await db.updateTable('webhook_endpoints').set({
        ...(set.url !== undefined ? { url: set.url } : {}),
        ...(set.description !== undefined ? { description: set.description } : {}),
        ...(set.eventTypes !== undefined ? { event_types: set.eventTypes } : {}),
        ...(set.secret !== undefined ? { secret: set.secret } : {}),
        ...(set.status !== undefined ? { status: set.status } : {}),
        ...(set.disabledReason !== undefined ? { disabled_reason: set.disabledReason } : {}),
        ...(set.disabledAt !== undefined ? { disabled_at: set.disabledAt } : {}),
        updated_at: set.at,
      }).where('workspace_id', '=', workspaceId).where('id', '=', id).returningAll().executeTakeFirst();
      return row && withSecret(row);
    },

    async deleteEndpoint(workspaceId: string, id: string): Promise<boolean> {
      const res = await db.deleteFrom('webhook_endpoints').where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
      return res.numDeletedRows > 0n;
    },

    /** The event types of each active endpoint (what emit() may deliver to). */
    async activeEventTypes(workspaceId: string): Promise<string[][]> {
      const rows = await db.selectFrom('webhook_endpoints').select('event_types')
        .where('workspace_id', '=', workspaceId).where('status', '=', 'active').execute();
      return rows.map((r) => r.event_types);
    },

    /** Active endpoints subscribed to `type` (by name or by '*'). */
    async subscribedEndpointIds(workspaceId: string, type: string): Promise<string[]> {
      const rows = await db.selectFrom('webhook_endpoints').select('id')
        .where('workspace_id', '=', workspaceId).where('status', '=', 'active')
        .where(sql<boolean>`event_types && ARRAY[${type}::text, '*'::text]::text[]`)
        .orderBy('id').execute();
      return rows.map((r) => r.id);
    },

    async insertMessage(m: { workspaceId: string; id: string; type: string; payload: WebhookPayload; at: Date }): Promise<void> {
      await db.insertInto('webhook_messages').values({
        workspace_id: m.workspaceId, id: m.id, type: m.type, payload: JSON.stringify(m.payload), created_at: m.at,
      }).execute();
    },

    async insertDeliveries(workspaceId: string, messageId: string, endpointIds: readonly string[], at: Date): Promise<void> {
      if (endpointIds.length === 0) return;
      await db.insertInto('webhook_deliveries').values(endpointIds.map((endpointId) => ({
        workspace_id: workspaceId, message_id: messageId, endpoint_id: endpointId, status: 'pending' as const,
        attempts: 0, next_attempt_at: at, created_at: at, updated_at: at,
      }))).execute();
    },

    async deliveryContext(workspaceId: string, messageId: string, endpointId: string): Promise<DeliveryContext | undefined> {
      const row = await db.selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_messages as m', (j) => j.onRef('m.workspace_id', '=', 'd.workspace_id').onRef('m.id', '=', 'd.message_id'))
        .innerJoin('webhook_endpoints as e', (j) => j.onRef('e.workspace_id', '=', 'd.workspace_id').onRef('e.id', '=', 'd.endpoint_id'))
        .select(['d.status as d_status', 'd.attempts', 'm.payload'])
        .selectAll('e')
        .where('d.workspace_id', '=', workspaceId).where('d.message_id', '=', messageId).where('d.endpoint_id', '=', endpointId)
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        endpoint: withSecret(row), messageId, payload: row.payload as unknown as WebhookPayload,
        status: row.d_status, attempts: row.attempts,
      };
    },

    async insertAttempt(a: { workspaceId: string; messageId: string; endpointId: string } & WebhookAttempt): Promise<void> {
      await db.insertInto('webhook_attempts').values({
        workspace_id: a.workspaceId, message_id: a.messageId, endpoint_id: a.endpointId, attempt: a.attempt,
        attempted_at: a.at, http_status: a.httpStatus, error_code: a.errorCode, error: a.error, duration_ms: a.durationMs,
      }).onConflict((oc) => oc.columns(['workspace_id', 'message_id', 'endpoint_id', 'attempt']).doNothing()).execute();
    },

    /**
     * Moves a delivery on from `fromAttempts` attempts; false when another run already did (a
     * duplicate job), so that run's outcome is not recorded twice.
     */
    async advanceDelivery(key: { workspaceId: string; messageId: string; endpointId: string }, fromAttempts: number, set: {
      status: DeliveryStatus; attempts: number; nextAttemptAt: Date | null; at: Date;
    }): Promise<boolean> {
      const res = await db.updateTable('webhook_deliveries')
        .set({ status: set.status, attempts: set.attempts, next_attempt_at: set.nextAttemptAt, updated_at: set.at })
        .where('workspace_id', '=', key.workspaceId).where('message_id', '=', key.messageId).where('endpoint_id', '=', key.endpointId)
        .where('status', '=', 'pending').where('attempts', '=', fromAttempts)
        .executeTakeFirst();
      return res.numUpdatedRows > 0n;
    },

    /** The endpoint's most recent messages, newest first, each with its delivery state and attempts. */
    async endpointMessages(workspaceId: string, endpointId: string, limit: number): Promise<EndpointMessage[]> {
      const rows = await db.selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_messages as m', (j) => j.onRef('m.workspace_id', '=', 'd.workspace_id').onRef('m.id', '=', 'd.message_id'))
        .select(['m.id', 'm.type', 'm.payload', 'm.created_at', 'd.status', 'd.next_attempt_at'])
        .where('d.workspace_id', '=', workspaceId).where('d.endpoint_id', '=', endpointId)
        .orderBy('d.created_at', 'desc').orderBy('m.id', 'desc').limit(limit).execute();
      if (rows.length === 0) return [];
      const attempts = await db.selectFrom('webhook_attempts').selectAll()
        .where('workspace_id', '=', workspaceId).where('endpoint_id', '=', endpointId)
        .where('message_id', 'in', rows.map((r) => r.id)).orderBy('attempt').execute();
      const byMessage = new Map<string, WebhookAttempt[]>();
      for (const a of attempts) {
        const list = byMessage.get(a.message_id) ?? [];
        list.push({ attempt: a.attempt, at: a.attempted_at, httpStatus: a.http_status, errorCode: a.error_code, error: a.error, durationMs: a.duration_ms });
        byMessage.set(a.message_id, list);
      }
      return rows.map((r) => ({
        id: r.id, type: r.type, payload: r.payload as unknown as WebhookPayload, createdAt: r.created_at, status: r.status,
        nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null, attempts: byMessage.get(r.id) ?? [],
      }));
    },

    /** Deletes messages (with their deliveries and attempts) created before `before`; answers how many. */
    async purgeMessages(before: Date): Promise<number> {
      const res = await db.deleteFrom('webhook_messages').where('created_at', '<', before)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('webhook_deliveries as d').select(sql`1`.as('one'))
          .whereRef('d.workspace_id', '=', 'webhook_messages.workspace_id').whereRef('d.message_id', '=', 'webhook_messages.id')
          .where('d.status', '=', 'pending'))))
        .executeTakeFirst();
      return Number(res.numDeletedRows);
    },
  };
}

function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id, url: row.url, description: row.description, eventTypes: row.event_types, status: row.status,
    disabledReason: row.disabled_reason, disabledAt: row.disabled_at, createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

function withSecret(row: EndpointRow): WebhookEndpointWithSecret {
  return { ...toEndpoint(row), secret: row.secret };
}

export type WebhookRepo = ReturnType<typeof createWebhookRepo>;
