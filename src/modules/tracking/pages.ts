// What the public tracking routes answer: the 1×1 GIF, the view-in-browser headers (no script runs in a
// viewed message), and the small pages for a bad link or a message whose content was not kept.
import { createHash } from 'node:crypto';
import type { ErrorCode } from '../../errors.ts';

/** A 1×1 transparent GIF (43 bytes). */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

export const PIXEL_HEADERS: Record<string, string> = {
  'content-type': 'image/gif',
  // Every load must reach the server to count (a cached pixel counts once).
  'cache-control': 'no-store, no-cache, must-revalidate, private',
  'pragma': 'no-cache',
  'expires': '0',
  'x-content-type-options': 'nosniff',
};

export const REDIRECT_HEADERS: Record<string, string> = { 'cache-control': 'no-store', 'x-robots-tag': 'noindex' };

/**
 * A viewed message: its HTML is the sent email, so it may hold anything a template printed. No script
 * may run (default-src 'none', no script-src, and a sandbox without allow-scripts, which also gives the
 * page an opaque origin); images and inline styles load as in a mail client; it cannot be framed.
 */
export const VIEW_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'private, no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex',
  'content-security-policy': [
    "default-src 'none'", 'img-src https: http: data:', "style-src 'unsafe-inline' https:", 'font-src https: data:',
    "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
    'sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation',
  ].join('; '),
};

const CSS = 'body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#f5f5f4;color:#1c1917;margin:0}'
  + 'main{max-width:34rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:12px}h1{font-size:1.5rem;margin:0 0 1rem}';
const CSS_HASH = createHash('sha256').update(CSS).digest('base64');

/** Tandem's own pages (bad link, content not kept). */
export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${CSS_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
};

function page(title: string, body: string, code?: ErrorCode): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${title}</title><style>${CSS}</style></head>
<body><main${code ? ` data-code="${code}"` : ''}><h1>${title}</h1>
${body}
</main></body></html>`;
}

export function badLinkPage(): string {
  return page('This link does not work', '<p>The link is incomplete or no longer points to anything. Check that it was copied whole.</p>',
    'tracking.bad_token' satisfies ErrorCode);
}

export function notKeptPage(): string {
  return page('This message was not kept', '<p>The sender does not keep a copy of this message, so it cannot be shown here. The copy in your mailbox is the only one.</p>');
}

/** Where a preview's unsubscribe, preferences and view-in-browser links lead: nothing happens there. */
export function previewLinkPage(what: string): string {
  return page('This is a preview', `<p>In a sent message, this link opens ${what}. In a preview it does nothing: no one was unsubscribed and nothing was changed.</p>`);
}

export function notSentPage(): string {
  return page('This message is not available', '<p>This message has not been sent, so there is nothing to show.</p>');
}
