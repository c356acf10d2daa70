// What one message says: the stored template (published versions) or the inline content of a
// transactional send, rendered for the person with the message's data, plus the headers every email
// carries (Message-ID, and for marketing email RFC 8058's List-Unsubscribe pair).
import { createHash } from 'node:crypto';
import type { Config } from '../../config.ts';
import { AppError } from '../../errors.ts';
import { buildRenderData, type Renderer, type RenderContextInput, type RenderLinks, type TemplateRenderService } from '../content/index.ts';
import { tandemMessageIdHeader } from './inbound/message-id.ts';
import type { MessageRow } from './types.ts';

export interface UnsubscribeLinks {
  oneClickUrl: string;
  unsubscribeUrl: string;
  preferencesUrl: string;
  mailto?: string;
}

export interface ComposedEmail {
  from: { address: string; name?: string };
  /**
   * true when the request or the template named the from address; false when it is the workspace's
   * fromAddress (or the no-reply fallback), which the sender's own `from` then replaces.
   */
  fromExplicit?: boolean;
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  marketing: boolean;
  topic: string | null;
  templateVersion: number | null;
}

export interface ComposedSms { body: string; marketing: boolean; topic: string | null; templateVersion: number | null }

/** The request a transactional send stores on its message (what the job renders). */
export interface SendRequest {
  templateId?: string;
  inline?: { subject: string; body: string; plaintextBody?: string; from?: string; replyTo?: string; preheader?: string };
  sms?: { body: string; from?: string };
  messageData?: Record<string, unknown>;
  headers?: Record<string, string>;
  sendToUnsubscribed?: boolean;
  /** The translation to use (Customer.io's `language`). */
  locale?: string;
}

export function parseAddress(raw: string): { address: string; name?: string } {
  const m = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(raw);
  if (m?.[2]) return { address: m[2].trim(), ...(m[1]?.trim() ? { name: m[1].trim() } : {}) };
  return { address: raw.trim() };
}

/** `<tandem.dlv_…@host>`: the prefix tells our Message-IDs from others' in bounces (see inbound/message-id.ts). */
export function messageIdHeader(messageId: string, publicUrl: string): string {
  return tandemMessageIdHeader(messageId, new URL(publicUrl).hostname);
}

export function createMessageComposer(deps: {
  templates: TemplateRenderService; renderer: Renderer; config: Pick<Config, 'publicUrl'>;
  /** The workspace's sending defaults (fromName, fromAddress, replyTo), read by inline sends. */
  workspaces: { get(id: string, opts?: { maxAgeMs?: number }): Promise<{ settings: { fromName?: string; fromAddress?: string; replyTo?: string } }> };
}) {
  const host = new URL(deps.config.publicUrl).hostname;

  /** The workspace's from (and reply-to), as template sends use it; a few seconds old at most. */
  async function workspaceFrom(ws: string): Promise<{ from: { address: string; name?: string }; replyTo?: string }> {
    const s = (await deps.workspaces.get(ws, { maxAgeMs: 5_000 })).settings;
    return {
      from: { address: s.fromAddress || `no-reply@${host}`, ...(s.fromName ? { name: s.fromName } : {}) },
      ...(s.replyTo ? { replyTo: s.replyTo } : {}),
    };
  }

  function context(m: MessageRow, person: RenderContextInput['person'], request: SendRequest, links: UnsubscribeLinks | undefined, viewUrl?: string): RenderContextInput {
    const renderLinks: RenderLinks = {
      ...(links ? { unsubscribe_url: links.unsubscribeUrl, preferences_url: links.preferencesUrl } : {}),
      ...(viewUrl ? { view_in_browser_url: viewUrl } : {}),
    };
    return {
      ...(person ? { person } : {}),
      // Customer.io's transactional message_data is `trigger.*`; it is also offered as `event.*`.
      trigger: request.messageData ?? {}, event: request.messageData ?? {},
      message: { id: m.id }, links: renderLinks,
    };
  }

  return {
    async email(ws: string, m: MessageRow, person: RenderContextInput['person'], links: UnsubscribeLinks | undefined, viewUrl?: string): Promise<ComposedEmail> {
      const request = m.request as SendRequest;
      const ctx = context(m, person, request, links, viewUrl);
      let out: Omit<ComposedEmail, 'headers'>;
      if (request.templateId) {
        const r = await deps.templates.render(ws, request.templateId, { mode: 'send', context: ctx, locale: request.locale });
        const e = r.email;
        if (!e) throw new AppError('content.wrong_channel', `template ${request.templateId} is not an email template`, { field: 'transactional_message_id' });
        const fromRaw = request.inline?.from;
        out = {
          from: fromRaw ? parseAddress(fromRaw) : { address: e.fromAddress ?? `no-reply@${host}`, ...(e.fromName ? { name: e.fromName } : {}) },
          fromExplicit: fromRaw !== undefined || e.fromOwn,
          ...(e.replyTo ? { replyTo: e.replyTo } : {}),
          subject: e.subject, html: e.html, text: e.text, marketing: r.marketing, topic: r.topic, templateVersion: r.version,
        };
      } else {
        const inline = request.inline ?? { subject: '', body: '' };
        const key = `inline:${createHash('sha256').update(JSON.stringify([inline.subject, inline.body, inline.plaintextBody ?? '', inline.preheader ?? ''])).digest('hex')}`;
        const data = buildRenderData(ctx);
        const r = await deps.renderer.render({
          key, html: inline.body, subject: inline.subject, ...(inline.preheader ? { preheader: inline.preheader } : {}), data,
        });
        // plaintext_body, when given, replaces the text made from the HTML.
        const text = inline.plaintextBody === undefined ? r.text
          : (await deps.renderer.renderTexts(deps.renderer.compileTexts(`${key}:text`, { text: inline.plaintextBody }), data))['text'] ?? '';
        // The same from as a template send: the request's, else (after the sender's own) the workspace's.
        const defaults = await workspaceFrom(ws);
        const replyTo = inline.replyTo ?? defaults.replyTo;
        out = {
          from: inline.from ? parseAddress(inline.from) : defaults.from,
          fromExplicit: inline.from !== undefined,
          ...(replyTo ? { replyTo } : {}),
          subject: r.subject, html: r.html, text, marketing: false, topic: null, templateVersion: null,
        };
      }
      const headers: Record<string, string> = {
        'Message-ID': messageIdHeader(m.id, deps.config.publicUrl),
        'X-Tandem-Message-Id': m.id,
        ...request.headers,
      };
      if (out.marketing && links) {
        headers['List-Unsubscribe'] = links.mailto ? `<${links.oneClickUrl}>, <${links.mailto}>` : `<${links.oneClickUrl}>`;
        headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
      }
      return { ...out, headers };
    },

    async sms(ws: string, m: MessageRow, person: RenderContextInput['person']): Promise<ComposedSms> {
      const request = m.request as SendRequest;
      const ctx = context(m, person, request, undefined);
      if (request.templateId) {
        const r = await deps.templates.render(ws, request.templateId, { mode: 'send', context: ctx });
        if (!r.sms) throw new AppError('content.wrong_channel', `template ${request.templateId} is not an SMS template`, { field: 'transactional_message_id' });
        return { body: r.sms.body, marketing: r.marketing, topic: r.topic, templateVersion: r.version };
      }
      const body = request.sms?.body ?? '';
      const key = `inline-sms:${createHash('sha256').update(body).digest('hex')}`;
      const texts = await deps.renderer.renderTexts(deps.renderer.compileTexts(key, { body }), buildRenderData(ctx));
      return { body: texts['body'] ?? '', marketing: false, topic: null, templateVersion: null };
    },
  };
}

export type MessageComposer = ReturnType<typeof createMessageComposer>;
