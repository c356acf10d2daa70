// HTML of the public consent pages. Everything printed from data (workspace and topic names, addresses)
// goes through escapeHtml; the only markup is written here. No script, one hashed stylesheet.
import { createHash } from 'node:crypto';
import { STRINGS, type StringKey } from './strings.ts';
import type { ConsentChannel, PersonTopicState } from './types.ts';

const CSS = `body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#f5f5f4;color:#1c1917;margin:0}
main{max-width:34rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.1)}
.brand{font-size:.875rem;color:#57534e;margin:0 0 1rem}h1{font-size:1.5rem;margin:0 0 1rem}
button{font:inherit;background:#1c1917;color:#fff;border:0;border-radius:8px;padding:.6rem 1.2rem;cursor:pointer}
label{display:flex;gap:.6rem;align-items:flex-start;padding:.5rem 0}.desc,.note,.code{color:#57534e;font-size:.875rem}
fieldset{border:0;padding:0;margin:0 0 1rem}.saved{background:#ecfdf5;padding:.6rem;border-radius:8px}a{color:#1d4ed8}`;

const CSS_HASH = createHash('sha256').update(CSS).digest('base64');

/** The headers every consent page carries: nothing cached, framed, sniffed, scripted or referred. */
export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // The token in the URL must not leak to other sites through Referer.
  'referrer-policy': 'no-referrer',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${CSS_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface PageContext {
  lang: string;
  workspaceName: string;
}

/** A localised string with its {placeholders} filled, all escaped. */
export function tr(lang: string, key: StringKey, vars: Record<string, string> = {}): string {
  const template = (STRINGS[lang] ?? STRINGS['en']!)[key];
  return escapeHtml(template).replace(/\{(\w+)\}/g, (_, name: string) => escapeHtml(vars[name] ?? ''));
}

function page(ctx: PageContext, title: StringKey, body: string, vars: Record<string, string> = {}): string {
  return `<!doctype html>
<html lang="${escapeHtml(ctx.lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${tr(ctx.lang, title, vars)}${ctx.workspaceName ? ` · ${escapeHtml(ctx.workspaceName)}` : ''}</title><style>${CSS}</style></head>
<body><main>${ctx.workspaceName ? `<p class="brand">${escapeHtml(ctx.workspaceName)}</p>` : ''}<h1>${tr(ctx.lang, title, vars)}</h1>
${body}
</main></body></html>`;
}

export function unsubscribeConfirmPage(ctx: PageContext, address: string | null, preferencesUrl: string): string {
  const w = { workspace: ctx.workspaceName };
  return page(ctx, 'unsubscribeTitle', `<p>${tr(ctx.lang, 'unsubscribeQuestion', w)}</p>
${address ? `<p class="note">${tr(ctx.lang, 'unsubscribeAddress', { address })}</p>` : ''}
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">${tr(ctx.lang, 'unsubscribeButton')}</button></form>
<p><a href="${escapeHtml(preferencesUrl)}">${tr(ctx.lang, 'managePreferences')}</a></p>`);
}

export function unsubscribedPage(ctx: PageContext, preferencesUrl: string): string {
  return page(ctx, 'unsubscribedTitle', `<p>${tr(ctx.lang, 'unsubscribedBody', { workspace: ctx.workspaceName })}</p>
<p><a href="${escapeHtml(preferencesUrl)}">${tr(ctx.lang, 'managePreferences')}</a></p>`);
}

export function preferencesPage(ctx: PageContext, view: {
  address: string | null; channel: ConsentChannel; topics: PersonTopicState[]; unsubscribedAll: boolean; saved: boolean;
}): string {
  const l = ctx.lang;
  const rows = view.topics.map((t) => `<label><input type="checkbox" name="topic" value="${escapeHtml(t.key)}"${t.state === 'unsubscribed' ? '' : ' checked'}>
<span><strong>${escapeHtml(t.name)}</strong>${t.state === 'pending' ? ` <span class="note">(${tr(l, 'pending')})</span>` : ''}
${t.description ? `<br><span class="desc">${escapeHtml(t.description)}</span>` : ''}</span></label>
<input type="hidden" name="shown" value="${escapeHtml(t.key)}">`).join('\n');
  return page(ctx, 'preferencesTitle', `${view.saved ? `<p class="saved" role="status">${tr(l, 'saved')}</p>` : ''}
<p>${tr(l, 'preferencesIntro', { workspace: ctx.workspaceName, address: view.address ?? '' })}</p>
<form method="post"><input type="hidden" name="save" value="1"><fieldset>${rows || `<p class="note">${tr(l, 'noTopics')}</p>`}</fieldset>
<fieldset><label><input type="checkbox" name="all" value="on"${view.unsubscribedAll ? ' checked' : ''}><span>${tr(l, view.channel === 'sms' ? 'allSms' : 'allEmail')}</span></label></fieldset>
<button type="submit">${tr(l, 'save')}</button></form>`);
}

export function confirmPage(ctx: PageContext, topicName: string): string {
  return page(ctx, 'confirmTitle', `<p>${tr(ctx.lang, 'confirmQuestion', { topic: topicName, workspace: ctx.workspaceName })}</p>
<form method="post"><button type="submit">${tr(ctx.lang, 'confirmButton')}</button></form>`);
}

export function confirmedPage(ctx: PageContext, topicName: string, confirmed: boolean): string {
  return page(ctx, 'confirmTitle', `<p>${tr(ctx.lang, confirmed ? 'confirmedBody' : 'nothingToConfirm', { topic: topicName })}</p>`);
}

/** A 4xx page: the message, and the stable error code (docs/errors.md) for support. */
export function errorPage(ctx: PageContext, code: string): string {
  const body = code === 'consent.bad_token' || code === 'consent.link_expired' ? 'errorBody' : 'badRequestBody';
  return page(ctx, 'errorTitle', `<p>${tr(ctx.lang, body)}</p><p class="code" data-code="${escapeHtml(code)}">${tr(ctx.lang, 'errorCode', { code })}</p>`);
}
