// SQL of the tracking module: settings, the links of each sent message, and per-template metrics.
// The metrics read the delivery module's tables (messages, message_events) directly: one aggregate
// query here is simpler and faster than a read API on the delivery module for it.
import { sql } from 'kysely';
import type { Queryable } from '../../db/pool.ts';
import type { TemplateCounts, TrackingSettings } from './types.ts';

export function createTrackingRepo(db: Queryable) {
  return {
    async settings(ws: string): Promise<TrackingSettings | undefined> {
      const row = await db.selectFrom('tracking_settings').select(['open_tracking', 'click_tracking', 'utm'])
        .where('workspace_id', '=', ws).executeTakeFirst();
      return row && { openTracking: row.open_tracking, clickTracking: row.click_tracking, utm: row.utm ?? null };
    },

    async saveSettings(ws: string, s: TrackingSettings, at: Date): Promise<void> {
      const utm = s.utm === null ? null : JSON.stringify(s.utm);
      await db.insertInto('tracking_settings')
        .values({ workspace_id: ws, open_tracking: s.openTracking, click_tracking: s.clickTracking, utm, updated_at: at })
        .onConflict((oc) => oc.column('workspace_id').doUpdateSet({ open_tracking: s.openTracking, click_tracking: s.clickTracking, utm, updated_at: at }))
        .execute();
    },

    /**
     * Records the links of messages, many at once (two statements at most). A retried send renders
     * again: `replace` also drops its links past the new count (a first attempt has none to drop).
     */
    async saveLinksMany(ws: string, items: ReadonlyArray<{ messageId: string; urls: readonly string[]; replace: boolean }>): Promise<void> {
      const replaced = items.filter((i) => i.replace);
      if (replaced.length > 0) {
        await sql`DELETE FROM tracking_links t
          USING unnest(${replaced.map((i) => i.messageId)}::text[], ${replaced.map((i) => i.urls.length)}::int[]) AS r(message_id, n)
          WHERE t.workspace_id = ${ws} AND t.message_id = r.message_id AND t.idx >= r.n`.execute(db);
      }
      const ids: string[] = [];
      const idxs: number[] = [];
      const urls: string[] = [];
      for (const i of items) {
        i.urls.forEach((url, idx) => {
          ids.push(i.messageId);
          idxs.push(idx);
          urls.push(url);
        });
      }
      if (urls.length === 0) return;
      await sql`INSERT INTO tracking_links (workspace_id, message_id, idx, url)
        SELECT ${ws}, l.message_id, l.idx, l.url FROM unnest(${ids}::text[], ${idxs}::int[], ${urls}::text[]) AS l(message_id, idx, url)
        ON CONFLICT (workspace_id, message_id, idx) DO UPDATE SET url = EXCLUDED.url`.execute(db);
    },

    async link(ws: string, messageId: string, idx: number): Promise<string | undefined> {
      const row = await db.selectFrom('tracking_links').select('url')
        .where('workspace_id', '=', ws).where('message_id', '=', messageId).where('idx', '=', idx).executeTakeFirst();
      return row?.url;
    },

    /** The stored HTML of a message (null: not kept, or not rendered yet); undefined when there is no such message. */
    async messageHtml(ws: string, messageId: string): Promise<{ html: string | null; status: string } | undefined> {
      return db.selectFrom('messages').select(['html', 'status']).where('workspace_id', '=', ws).where('id', '=', messageId).executeTakeFirst();
    },

    async templateCounts(ws: string, templateId: string): Promise<TemplateCounts> {
      const touched = (type: string) => sql<boolean>`EXISTS (SELECT 1 FROM message_events e
        WHERE e.workspace_id = m.workspace_id AND e.message_id = m.id AND e.type = ${type})`;
      const r = await sql<Record<keyof TemplateCounts, string>>`SELECT
          count(*) AS total,
          count(*) FILTER (WHERE m.status IN ('queued', 'sending', 'retrying')) AS queued,
          count(*) FILTER (WHERE m.status IN ('sent', 'delivered', 'bounced', 'complained')) AS sent,
          count(*) FILTER (WHERE m.status IN ('delivered', 'complained')) AS delivered,
          count(*) FILTER (WHERE m.status = 'bounced') AS bounced,
          count(*) FILTER (WHERE m.status = 'complained') AS complained,
          count(*) FILTER (WHERE m.status = 'failed') AS failed,
          count(*) FILTER (WHERE m.status = 'suppressed') AS suppressed,
          count(*) FILTER (WHERE ${touched('opened')}) AS opened,
          count(*) FILTER (WHERE ${touched('clicked')}) AS clicked
        FROM messages m WHERE m.workspace_id = ${ws} AND m.template_id = ${templateId}`.execute(db);
      const row = r.rows[0];
      const n = (k: keyof TemplateCounts) => Number(row?.[k] ?? 0);
      return {
        total: n('total'), queued: n('queued'), sent: n('sent'), delivered: n('delivered'), bounced: n('bounced'), complained: n('complained'),
        failed: n('failed'), suppressed: n('suppressed'), opened: n('opened'), clicked: n('clicked'),
      };
    },
  };
}
