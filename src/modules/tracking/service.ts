// Open and click tracking, UTM tags and view in browser. The delivery pipeline calls `transform` on each
// rendered email before sending: links become signed /c/ links (the original URLs are recorded for the
// message, and /c/ redirects only to them: no open redirect), the open pixel goes before </body>.
// Signed tokens carry the workspace, the message id and the link's index; nothing else in a request
// decides where a click goes.
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/pool.ts';
import { AppError, isAppError } from '../../errors.ts';
import { groupCommit } from '../../db/group-commit.ts';
import { ttlCache } from '../../db/ttl-cache.ts';
import type { Logger } from '../../logger.ts';
import type { ContentService } from '../content/index.ts';
import type { ComposedEmail, DeliveryService, MessageRow } from '../delivery/index.ts';
import type { SignedPayload, SigningService } from '../signing/index.ts';
import { createTrackingRepo } from './repo.ts';
import { httpUrl, resolveUtm, rewriteHtml, withUtm } from './rewrite.ts';
import { DEFAULT_SETTINGS, type RequestContext, type TemplateMetrics, type TrackingSettings } from './types.ts';

export const PURPOSES = { click: 'click', open: 'open', view: 'view' } as const;
/** Links past this many in one message are left as they are (bounds what one send stores). */
export const MAX_LINKS = 500;
const SETTINGS_TTL_MS = 5_000;
/** Statuses of a message not sent yet (and of one never sent: its content was never rendered). */
const NOT_SENT = new Set(['queued', 'sending', 'retrying', 'failed', 'suppressed']);

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const rate = (n: number, d: number): number | null => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : null);

export function createTrackingService(deps: {
  db: Db; clock: Clock; log: Logger; config: Pick<Config, 'publicUrl' | 'trackingUrl'>;
  signing: SigningService; delivery: Pick<DeliveryService, 'message' | 'recordEvent'>; content: Pick<ContentService, 'get' | 'getByName'>;
}) {
  const { db, clock, log } = deps;
  // Normalised as link URLs are (lower-case host, no default port), so that prefixes compare alike.
  const base = new URL(deps.config.trackingUrl).href.replace(/\/+$/, '');
  const publicBase = new URL(deps.config.publicUrl).href.replace(/\/+$/, '');
  // Consent links (one-click unsubscribe, preferences, double opt-in) and Tandem's own tracking links stay as they are.
  const untracked = [`${publicBase}/u/`, `${publicBase}/preferences/`, `${publicBase}/confirm/`, `${base}/c/`, `${base}/o/`, `${base}/v/`];
  const now = () => clock.now().getTime();
  const cache = ttlCache<string, TrackingSettings>(SETTINGS_TTL_MS, async (ws) => (await createTrackingRepo(db).settings(ws)) ?? DEFAULT_SETTINGS, { now });
  const names = ttlCache<string, string>(60_000, async (key) => {
    const [ws = '', templateId = ''] = key.split('\n');
    try {
      return (await deps.content.get(ws, 'template', templateId)).name;
    } catch (err) {
      if (!(isAppError(err) && err.code === 'content.not_found')) throw err;
      return '';
    }
  }, { now });
  // Every send records its links before it goes: concurrent sends' links are written together.
  const saveLinks = groupCommit<string, { messageId: string; urls: string[]; replace: boolean }, undefined>(async (ws, items) => {
    await createTrackingRepo(db).saveLinksMany(ws, items);
    return items.map(() => undefined);
  }, { max: 200 });

  function settings(ws: string): Promise<TrackingSettings> {
    return cache.get(ws);
  }

  async function templateName(ws: string, templateId: string | null): Promise<string> {
    return templateId ? names.get(`${ws}\n${templateId}`) : '';
  }

  /** The verified payload's workspace and message, or null. */
  async function open(purpose: keyof typeof PURPOSES, token: string): Promise<{ ws: string; messageId: string; payload: SignedPayload } | null> {
    const payload = (await deps.signing.signer()).verify(PURPOSES[purpose], token);
    const ws = str(payload?.['w']);
    const messageId = str(payload?.['m']);
    if (!payload || !ws || !messageId) return null;
    return { ws, messageId, payload };
  }

  async function message(ws: string, messageId: string): Promise<MessageRow | null> {
    const m = await deps.delivery.message(ws, messageId);
    if (!m) return null;
    const { events: _events, ...row } = m;
    return row;
  }

  /** A failed event write must not break the reader's click or image: log it and go on. */
  async function record(ws: string, m: MessageRow, type: 'opened' | 'clicked', data: Record<string, unknown>): Promise<void> {
    try {
      await deps.delivery.recordEvent(ws, m, type, undefined, data);
    } catch (err) {
      log.error({ err, workspaceId: ws, messageId: m.id, type }, 'could not record a tracking event');
    }
  }

  return {
    async viewUrl(ws: string, messageId: string): Promise<string> {
      return `${base}/v/${(await deps.signing.signer()).sign(PURPOSES.view, { w: ws, m: messageId })}`;
    },

    /** The delivery transform: tracked links, UTM tags and the open pixel, per the workspace's settings. */
    async transform(ws: string, m: MessageRow, email: ComposedEmail): Promise<ComposedEmail> {
      const s = await settings(ws);
      if (!s.openTracking && !s.clickTracking && !s.utm) return email;
      const signer = await deps.signing.signer();
      const utm = s.utm ? resolveUtm(s.utm, { template: await templateName(ws, m.templateId) }) : null;
      const links: string[] = [];
      const html = rewriteHtml(email.html, {
        link: (url) => {
          if (untracked.some((prefix) => url.startsWith(prefix))) return undefined;
          const target = utm ? withUtm(url, utm) : url;
          if (!s.clickTracking || links.length >= MAX_LINKS) return target === url ? undefined : target;
          const index = links.push(target) - 1;
          return `${base}/c/${signer.sign(PURPOSES.click, { w: ws, m: m.id, i: index })}`;
        },
        pixelUrl: s.openTracking ? `${base}/o/${signer.sign(PURPOSES.open, { w: ws, m: m.id })}.gif` : undefined,
      });
      if (s.clickTracking && (links.length > 0 || m.attempts > 1)) await saveLinks(ws, { messageId: m.id, urls: links, replace: m.attempts > 1 });
      return { ...email, html };
    },

    /** Where a click goes: the URL recorded for the token's message and index (null: 404, nothing recorded). */
    async click(token: string, ctx: RequestContext, opts: { record: boolean } = { record: true }): Promise<string | null> {
      const t = await open('click', token);
      const index = t?.payload['i'];
      if (!t || typeof index !== 'number' || !Number.isInteger(index) || index < 0) return null;
      const url = await createTrackingRepo(db).link(t.ws, t.messageId, index);
      // Recorded URLs are http(s) by construction; checked again so that nothing else can ever be a Location.
      if (url === undefined || httpUrl(url) === undefined) return null;
      const m = await message(t.ws, t.messageId);
      if (!m) return null;
      if (opts.record) await record(t.ws, m, 'clicked', { url, index, ip: ctx.ip, userAgent: ctx.userAgent });
      return url;
    },

    /** The open pixel: true when the token names a message (an `opened` event is recorded for each load). */
    async open(token: string, ctx: RequestContext, opts: { record: boolean } = { record: true }): Promise<boolean> {
      const t = await open('open', token);
      const m = t && await message(t.ws, t.messageId);
      if (!t || !m) return false;
      if (opts.record) await record(t.ws, m, 'opened', { ip: ctx.ip, userAgent: ctx.userAgent });
      return true;
    },

    /**
     * The message's stored HTML; html null: not sent yet (`sent` false), or sent with retention disabled or
     * past the workspace's retention days. null: no such message.
     */
    async view(token: string): Promise<{ html: string | null; sent: boolean } | null> {
      const t = await open('view', token);
      const m = t && await createTrackingRepo(db).messageHtml(t.ws, t.messageId);
      if (!m) return null;
      return { html: m.html, sent: !NOT_SENT.has(m.status) };
    },

    settings,

    async saveSettings(ws: string, s: TrackingSettings): Promise<TrackingSettings> {
      await createTrackingRepo(db).saveSettings(ws, s, clock.now());
      cache.forget(ws);
      return settings(ws);
    },

    async metrics(ws: string, id: string, by: 'id' | 'name' = 'id'): Promise<TemplateMetrics> {
      const template = by === 'id' ? await deps.content.get(ws, 'template', id) : await deps.content.getByName(ws, 'template', id);
      if (!template) throw new AppError('content.not_found', undefined, { field: 'id' });
      const c = await createTrackingRepo(db).templateCounts(ws, template.id);
      return {
        templateId: template.id, ...c,
        rates: {
          delivery: rate(c.delivered, c.sent), bounce: rate(c.bounced, c.sent), complaint: rate(c.complained, c.sent),
          open: rate(c.opened, c.sent), click: rate(c.clicked, c.sent), clickToOpen: rate(c.clicked, c.opened),
        },
      };
    },
  };
}

export type TrackingService = ReturnType<typeof createTrackingService>;
