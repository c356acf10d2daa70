// Double opt-in: the confirmation message a pending topic sends. Consent writes the pending state and
// asks for the message in the same transaction; the message itself goes out through Tandem's own
// delivery (the workspace's sender, TANDEM_SMTP_URL, else the dev inbox), which the composition root
// connects here (wiring.ts). The content is fixed by Tandem and localised; names arrive as message data
// (`trigger.*`), so a topic or workspace name is printed escaped and never runs as Liquid.
import type { Queryable } from '../../db/pool.ts';
import { escapeHtml } from './pages.ts';
import { STRINGS, type StringKey } from './strings.ts';

/** How long a confirmation link works. */
export const CONFIRM_LINK_TTL_MS = 7 * 24 * 3600_000;
/** At most one confirmation per person and topic in this period, however often they ask. */
export const CONFIRM_RESEND_MS = 24 * 3600_000;

export interface ConfirmationMessage {
  channel: 'email' | 'sms';
  to: string;
  personId: string;
  /** Unique per message: the queued send's idempotency key. */
  key: string;
  /** Liquid source: the email's subject and HTML body, or the SMS body. */
  subject: string;
  html: string;
  text: string;
  /** Given to the render as `trigger.*`. */
  data: { topic: string; workspace: string; confirm_url: string };
}

/** Queues a confirmation inside the caller's transaction (delivery's enqueue). */
export type ConfirmationSender = (tx: Queryable, ws: string, message: ConfirmationMessage) => Promise<void>;

/** A string with its {placeholders} as Liquid outputs of the message data; `html` escapes the text around them. */
function liquid(lang: string, key: StringKey, html: boolean): string {
  const template = (STRINGS[lang] ?? STRINGS['en']!)[key];
  return template.split(/(\{\w+\})/).map((part) => {
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (name) return `{{ trigger.${name} }}`;
    return html ? escapeHtml(part) : part;
  }).join('');
}

export function confirmationContent(lang: string, channel: 'email' | 'sms'): Pick<ConfirmationMessage, 'subject' | 'html' | 'text'> {
  if (channel === 'sms') {
    return { subject: '', html: '', text: `${liquid(lang, 'confirmEmailBody', false)} {{ trigger.confirm_url }}` };
  }
  const html = `<!doctype html><html lang="${escapeHtml(lang)}"><body style="font-family:system-ui,sans-serif;line-height:1.5">
<p>${liquid(lang, 'confirmEmailBody', true)}</p>
<p><a href="{{ trigger.confirm_url }}" style="display:inline-block;background:#1c1917;color:#fff;padding:10px 18px;border-radius:8px;text-decoration:none">${liquid(lang, 'confirmButton', true)}</a></p>
<p style="color:#57534e;font-size:14px">{{ trigger.confirm_url }}</p>
<p style="color:#57534e;font-size:14px">${liquid(lang, 'confirmEmailIgnore', true)}</p>
</body></html>`;
  const text = `${liquid(lang, 'confirmEmailBody', false)}\n\n{{ trigger.confirm_url }}\n\n${liquid(lang, 'confirmEmailIgnore', false)}`;
  return { subject: liquid(lang, 'confirmEmailSubject', false), html, text };
}
