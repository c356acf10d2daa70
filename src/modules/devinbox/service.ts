// The dev inbox: with no sender configured, email (and test sends of any channel) land here, so a
// fresh install works end to end and a marketer can see exactly what would have been sent.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/pool.ts';
import { AppError } from '../../errors.ts';
import type { SigningService } from '../signing/index.ts';
import { createDevInboxRepo } from './repo.ts';
import type { DevInboxMessage } from './types.ts';

export interface DevInboxPage {
  messages: DevInboxMessage[];
  next: string | null;
}

function encodeCursor(m: DevInboxMessage): string {
  return Buffer.from(`${m.createdAt.toISOString()}|${m.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  const [iso = '', id = ''] = Buffer.from(cursor, 'base64url').toString().split('|');
  const at = new Date(iso);
  if (Number.isNaN(at.getTime()) || !/^dev_[0-9a-f]{20}$/.test(id)) {
    throw new AppError('request.invalid', 'cursor: not a cursor this API gave', { field: 'cursor' });
  }
  return { at, id };
}

/** How long a message's HTML link (htmlUrl) opens it: a day, for a link pasted into a browser. */
const HTML_LINK_SECONDS = 24 * 3600;
const HTML_PURPOSE = 'dev-inbox.html';

export function createDevInboxService(deps: { db: Db; clock: Clock; signing: SigningService; config: Pick<Config, 'publicUrl'> }) {
  const { db, clock, signing } = deps;
  const base = deps.config.publicUrl.replace(/\/+$/, '');
  return {
    /**
     * A signed link that shows the message's HTML in a browser without the App API key (a browser
     * cannot send it): `/dev-inbox/<token>`, valid for a day; null when the message has no HTML.
     */
    async htmlUrl(workspaceId: string, m: DevInboxMessage): Promise<string | null> {
      if (m.html === null) return null;
      const until = Math.floor(clock.now().getTime() / 1000) + HTML_LINK_SECONDS;
      return `${base}/dev-inbox/${(await signing.signer()).sign(HTML_PURPOSE, { w: workspaceId, m: m.id, u: until })}`;
    },

    /** The HTML of the message a token names, or null (bad, expired or for a message gone). */
    async html(token: string): Promise<string | null> {
      const p = (await signing.signer()).verify(HTML_PURPOSE, token);
      const ws = p?.['w'];
      const id = p?.['m'];
      const until = p?.['u'];
      if (typeof ws !== 'string' || typeof id !== 'string' || typeof until !== 'number') return null;
      if (until * 1000 < clock.now().getTime() || !/^dev_[0-9a-f]{20}$/.test(id)) return null;
      return (await createDevInboxRepo(db).get(ws, id))?.html ?? null;
    },

    async deliver(workspaceId: string, m: Omit<DevInboxMessage, 'id' | 'createdAt'>): Promise<DevInboxMessage> {
      const message = { ...m, id: `dev_${randomBytes(10).toString('hex')}`, createdAt: clock.now() };
      await createDevInboxRepo(db).insert(workspaceId, message);
      return message;
    },

    async list(workspaceId: string, opts: { limit: number; cursor?: string | undefined; to?: string | undefined }): Promise<DevInboxPage> {
      const before = opts.cursor !== undefined ? decodeCursor(opts.cursor) : undefined;
      const rows = await createDevInboxRepo(db).list(workspaceId, { limit: opts.limit + 1, to: opts.to, before });
      const page = rows.slice(0, opts.limit);
      const last = page.at(-1);
      return { messages: page, next: rows.length > opts.limit && last ? encodeCursor(last) : null };
    },

    async get(workspaceId: string, id: string): Promise<DevInboxMessage> {
      const m = /^dev_[0-9a-f]{20}$/.test(id) ? await createDevInboxRepo(db).get(workspaceId, id) : undefined;
      if (!m) throw new AppError('dev_inbox.not_found', undefined, { field: 'id' });
      return m;
    },
  };
}

export type DevInboxService = ReturnType<typeof createDevInboxService>;
