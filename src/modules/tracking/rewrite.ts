// Rewrites a rendered email's HTML for tracking: each <a href> with an http(s) URL is offered to a
// callback (which answers the href to write, or undefined to leave it), and the open pixel goes before
// </body>. Edits are made on the source text at the parser's positions, so everything else in the
// HTML stays byte for byte as rendered.
import { Parser } from 'htmlparser2';
import type { Utm } from './types.ts';

export interface RewriteOptions {
  /** Called with each http(s) link's URL (entities decoded, normalised by the URL parser). */
  link?: ((url: string) => string | undefined) | undefined;
  /** The open pixel's URL; no pixel when undefined. */
  pixelUrl?: string | undefined;
}

interface Edit { start: number; end: number; text: string }

export function escapeAttr(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The normalised URL when `raw` is an absolute http(s) URL, else undefined (mailto:, tel:, #, relative, javascript:…). */
export function httpUrl(raw: string): string | undefined {
  const trimmed = raw.trim();
  if (!/^https?:\/\//i.test(trimmed)) return undefined;
  try {
    return new URL(trimmed).href;
  } catch {
    return undefined;
  }
}

export function pixelTag(url: string): string {
  return `<img src="${escapeAttr(url)}" width="1" height="1" alt="" style="display:none">`;
}

export function rewriteHtml(html: string, opts: RewriteOptions): string {
  const edits: Edit[] = [];
  let tag = '';
  let hrefSeen = false;
  let bodyClose = -1;
  const parser = new Parser({
    onopentagname(name) {
      tag = name;
      hrefSeen = false;
    },
    onattribute(name, value, quote) {
      if (tag !== 'a' || name !== 'href' || !opts.link) return;
      // The parser's positions: from the attribute's name to the end of its value (closing quote included).
      const start = parser.startIndex;
      const end = parser.endIndex;
      if (hrefSeen) {
        // Browsers use the first href; a second one is dropped so it cannot carry an untracked URL.
        edits.push({ start, end, text: '' });
        return;
      }
      hrefSeen = true;
      if (quote === undefined) return; // `<a href>` without a value
      const url = httpUrl(value);
      if (url === undefined) return;
      const href = opts.link(url);
      if (href !== undefined) edits.push({ start, end, text: `href="${escapeAttr(href)}"` });
    },
    onclosetag(name) {
      // Only a </body> written in the source (not one the parser implies at the end).
      if (name === 'body' && html.slice(parser.startIndex, parser.startIndex + 6).toLowerCase() === '</body') bodyClose = parser.startIndex;
    },
  }, { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true });
  parser.end(html);
  if (opts.pixelUrl !== undefined) {
    const at = bodyClose >= 0 ? bodyClose : html.length;
    edits.push({ start: at, end: at, text: pixelTag(opts.pixelUrl) });
  }
  let out = html;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

const UTM_KEYS = [['source', 'utm_source'], ['medium', 'utm_medium'], ['campaign', 'utm_campaign']] as const;

/** Appends the UTM parameters the URL does not already carry; values are percent-encoded. */
export function withUtm(url: string, utm: Utm): string {
  const u = new URL(url);
  const present = new URLSearchParams(u.search);
  const add = UTM_KEYS.flatMap(([k, param]) => {
    const v = utm[k];
    return v && !present.has(param) ? [`${param}=${encodeURIComponent(v)}`] : [];
  });
  if (add.length === 0) return url;
  u.search = u.search.length > 1 ? `${u.search.slice(1)}&${add.join('&')}` : add.join('&');
  return u.href;
}

/** `{{template}}` (spaces allowed) becomes the template's name; an empty result drops the parameter. */
export function resolveUtm(utm: Utm, vars: { template: string }): Utm {
  const fill = (v: string | undefined) => v?.replace(/\{\{\s*template\s*\}\}/g, vars.template).trim() || undefined;
  const source = fill(utm.source);
  const medium = fill(utm.medium);
  // The campaign defaults to the template's name.
  const campaign = fill(utm.campaign ?? '{{template}}');
  return { ...(source ? { source } : {}), ...(medium ? { medium } : {}), ...(campaign ? { campaign } : {}) };
}
