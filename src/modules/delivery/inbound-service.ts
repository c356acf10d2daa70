// Inbound delivery events (bounce and complaint webhooks, DSNs): each notification is verified by its
// parser (inbound/), matched to our message by Tandem's id or the provider's, recorded once per event
// id (replays and out-of-order copies change nothing), and a hard bounce or complaint suppresses the
// address; a soft bounce does not.
import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/pool.ts';
import { sql } from 'kysely';
import type { InboundEvent } from './inbound/index.ts';
import { createDeliveryRepo } from './repo.ts';
import type { MessageRow, MessageStatus } from './types.ts';

export interface Suppressor {
  suppress(ws: string, channel: 'email', address: string, reason: 'hard_bounce' | 'complaint', source: 'bounce' | 'complaint', opts?: { messageId?: string | null }): Promise<unknown>;
}

const STATUS: Partial<Record<InboundEvent['kind'], MessageStatus>> = {
  delivered: 'delivered', hard_bounce: 'bounced', complaint: 'complained',
};

/** A sender pauses itself when, over the window, complaints reach 0.3% or hard bounces 5% of its sends. */
export const HEALTH = { windowMs: 24 * 3600_000, minSends: 200, complaintRate: 0.003, bounceRate: 0.05 } as const;

export function createInboundService(deps: { db: Db; clock: Clock; suppressor: () => Suppressor | undefined;
  pause: (ws: string, senderId: string, reason: string) => Promise<void>;
  record: (ws: string, m: MessageRow, type: string, status: MessageStatus | undefined, data: Record<string, unknown>) => Promise<void> }) {
  const { db } = deps;

  async function checkHealth(ws: string, senderId: string): Promise<void> {
    const h = await createDeliveryRepo(db).senderHealth(ws, senderId, new Date(deps.clock.now().getTime() - HEALTH.windowMs));
    if (h.sent < HEALTH.minSends) return;
    const complaints = h.complained / h.sent;
    const bounces = h.bounced / h.sent;
    if (complaints >= HEALTH.complaintRate || bounces >= HEALTH.bounceRate) {
      const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
      await deps.pause(ws, senderId, `paused itself: ${pct(complaints)} complaints and ${pct(bounces)} hard bounces over the last 24 h of ${h.sent} sends`);
    }
  }

  return {
    /** Applies verified events; answers how many were new. */
    async apply(ws: string, events: readonly InboundEvent[]): Promise<{ applied: number; duplicates: number }> {
      let applied = 0;
      let duplicates = 0;
      for (const e of events) {
        const fresh = await sql<{ n: number }>`INSERT INTO inbound_events (workspace_id, event_id, received_at)
          VALUES (${ws}, ${e.eventId}, ${deps.clock.now()}) ON CONFLICT DO NOTHING RETURNING 1 AS n`.execute(db);
        if (fresh.rows.length === 0) {
          duplicates++;
          continue;
        }
        applied++;
        const repo = createDeliveryRepo(db);
        const m = (e.messageId ? await repo.message(ws, e.messageId) : undefined)
          ?? (e.providerMessageId ? await repo.messageByProviderId(ws, e.providerMessageId) : undefined);
        if (m) {
          // A later delivered never undoes a bounce or complaint (notifications arrive out of order).
          const status = STATUS[e.kind];
          const keep = m.status === 'bounced' || m.status === 'complained';
          await deps.record(ws, m, e.kind, keep ? undefined : status, { provider: e.provider, email: e.email, reason: e.reason ?? null, eventId: e.eventId });
        }
        if (e.kind === 'hard_bounce' || e.kind === 'complaint') {
          await deps.suppressor()?.suppress(ws, 'email', e.email, e.kind, e.kind === 'complaint' ? 'complaint' : 'bounce', { messageId: m?.id ?? null });
          if (m?.senderId?.startsWith('snd_')) await checkHealth(ws, m.senderId);
        }
      }
      return { applied, duplicates };
    },
  };
}

export type InboundService = ReturnType<typeof createInboundService>;
