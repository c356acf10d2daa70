import type { Queryable } from '../../db/pool.ts';
import type { DevInboxMessage } from './types.ts';

interface Row {
  id: string; channel: string; source: string; to_address: string; from_address: string | null; subject: string | null;
  html: string | null; text: string | null; meta: Record<string, unknown>; created_at: Date;
}

function toMessage(r: Row): DevInboxMessage {
  return {
    id: r.id, channel: r.channel, source: r.source, to: r.to_address, from: r.from_address, subject: r.subject,
    html: r.html, text: r.text, meta: r.meta, createdAt: r.created_at,
  };
}

export function createDevInboxRepo(db: Queryable) {
  return {
    async insert(workspaceId: string, m: DevInboxMessage): Promise<void> {
      await db.insertInto('dev_inbox').values({
        workspace_id: workspaceId, id: m.id, channel: m.channel, source: m.source, to_address: m.to,
        from_address: m.from, subject: m.subject, html: m.html, text: m.text, meta: JSON.stringify(m.meta),
        created_at: m.createdAt,
      }).execute();
    },

    /** Newest first, after the (createdAt, id) cursor. */
    async list(workspaceId: string, opts: { limit: number; to?: string | undefined; before?: { at: Date; id: string } | undefined }): Promise<DevInboxMessage[]> {
      let q = db.selectFrom('dev_inbox').selectAll().where('workspace_id', '=', workspaceId);
      if (opts.to !== undefined) q = q.where('to_address', '=', opts.to);
      if (opts.before) {
        const { at, id } = opts.before;
        q = q.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]));
      }
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
      return rows.map(toMessage);
    },

    async get(workspaceId: string, id: string): Promise<DevInboxMessage | undefined> {
      const row = await db.selectFrom('dev_inbox').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
      return row && toMessage(row);
    },
  };
}
