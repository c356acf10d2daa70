// Rules over the compiled HTML of an email: outside images, missing alt text, http:// links and
// the size at which Gmail clips a message.
import { isUnsafeLink } from '../render/safe-links.ts';
import { isHosted, isLiquidValued, isNonWebLink, scanHtml } from './html.ts';
import type { LintFinding } from './types.ts';

/** Gmail clips a message whose HTML is larger than this ("[Message clipped]"). */
export const GMAIL_CLIP_BYTES = 102 * 1024;

export interface HtmlRuleInput {
  html: string;
  hostedAssetPrefixes: readonly string[];
  /**
   * Maps a URL to a line of the source the author wrote. For code-mode HTML the compiled HTML is the
   * source; for MJML the URL is looked up in the MJML (MJML moves lines around).
   */
  lineOf: (url: string, htmlLine: number) => number | undefined;
}

const at = (line: number | undefined) => (line === undefined ? {} : { line });

export function htmlFindings({ html, hostedAssetPrefixes, lineOf }: HtmlRuleInput): LintFinding[] {
  const findings: LintFinding[] = [];
  const bytes = Buffer.byteLength(html, 'utf8');
  if (bytes > GMAIL_CLIP_BYTES) {
    findings.push({
      rule: 'html.too_large', severity: 'warning', part: 'body',
      message: `The compiled HTML is ${(bytes / 1024).toFixed(1)} KB (${bytes} bytes) before personalisation; Gmail clips messages over 102 KB.`,
    });
  }
  const external = new Set<string>();
  const insecure = new Set<string>();
  for (const u of scanHtml(html)) {
    const scheme = linkSchemeFinding(u.kind === 'link' ? u.url : undefined);
    if (scheme) findings.push({ ...scheme, part: 'body', url: u.url, ...at(lineOf(u.url, u.line)) });
    if (isLiquidValued(u.url)) {
      if (u.source === 'img' && !u.alt?.trim()) {
        findings.push({ rule: 'image.alt_missing', severity: 'warning', part: 'body', url: u.url, ...at(lineOf(u.url, u.line)),
          message: 'An image has no alt text (screen readers, and clients that block images, show the alt text).' });
      }
      continue;
    }
    const line = lineOf(u.url, u.line);
    if (u.kind === 'image') {
      if (u.source === 'img' && !u.alt?.trim()) {
        findings.push({ rule: 'image.alt_missing', severity: 'warning', part: 'body', url: u.url, ...at(line),
          message: `The image ${u.url.slice(0, 200)} has no alt text (screen readers, and clients that block images, show the alt text).` });
      }
      if (!/^(data|cid):/i.test(u.url) && !isHosted(u.url, hostedAssetPrefixes) && !external.has(u.url)) {
        external.add(u.url);
        findings.push({ rule: 'image.external', severity: 'warning', part: 'body', url: u.url, ...at(line),
          message: `The image ${u.url.slice(0, 200)} is not hosted by Tandem; import it into the asset library so it cannot change or disappear.` });
      }
    } else if (!isNonWebLink(u.url) && /^http:\/\//i.test(u.url) && !insecure.has(u.url)) {
      insecure.add(u.url);
      findings.push({ rule: 'link.insecure', severity: 'warning', part: 'body', url: u.url, ...at(line),
        message: `The link ${u.url.slice(0, 200)} uses http://; use https://.` });
    }
  }
  return findings;
}

// Tandem's own link outputs print signed URLs of this installation.
const OWN_LINK = /^\{[{%]-?\s*(?:unsubscribe_url|view_in_browser_url|manage_subscription_preferences_url|preferences_url|message\.(?:unsubscribe_url|preferences_url|view_in_browser_url))\b/;
// What, written before the Liquid, fixes the scheme: a safe scheme, or a relative start.
const SCHEME_GUARD = /^(?:https?:\/\/|mailto:|tel:|[/#?.])/i;

/**
 * A link whose scheme is not http, https, mailto or tel (the render turns it into "#"), or whose scheme
 * comes from data: `href="{{ customer.website }}"` sends `javascript:…` as written unless the template
 * fixes the scheme first (`https://{{ … }}`, a path).
 */
function linkSchemeFinding(url: string | undefined): Pick<LintFinding, 'rule' | 'severity' | 'message'> | undefined {
  if (url === undefined) return undefined;
  if (!isLiquidValued(url)) {
    return isUnsafeLink(url) ? {
      rule: 'link.unsafe_scheme', severity: 'warning',
      message: `The link ${url.slice(0, 200)} is not http, https, mailto or tel; it is sent as "#".`,
    } : undefined;
  }
  const start = Math.min(...['{{', '{%'].map((m) => url.indexOf(m)).filter((i) => i >= 0));
  const before = url.slice(0, start).trim();
  if (before === '' ? OWN_LINK.test(url) : SCHEME_GUARD.test(before)) return undefined;
  return {
    rule: 'link.unguarded', severity: 'warning',
    message: `The link ${url.slice(0, 200)} takes its scheme from data: write the scheme first (https://{{ … }}) so a value like "javascript:" cannot become the link (it is sent as "#").`,
  };
}

/** 1-based line of the first occurrence of `needle` in `text`, or undefined. */
export function lineOfText(text: string, needle: string): number | undefined {
  if (needle === '') return undefined;
  let index = text.indexOf(needle);
  if (index === -1) index = text.indexOf(needle.replaceAll('&', '&amp;'));
  if (index === -1) return undefined;
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
