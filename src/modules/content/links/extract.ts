// The URLs a template's compiled HTML points at, deduplicated, with what the checker should do
// with each: fetch it, ask the asset library (Tandem-hosted), or record why it is skipped.
import { isHosted, isLiquidValued, isNonWebLink, scanHtml, type UrlKind } from '../lint/index.ts';

export interface ExtractedUrl {
  url: string;
  kind: UrlKind;
  /** 'fetch': an absolute http(s) URL; 'hosted': under a Tandem asset prefix; 'invalid': not fetchable. */
  action: 'fetch' | 'hosted' | 'invalid';
}

/**
 * Links and images in `html`, one entry per (url, kind), in document order. Skipped entirely:
 * mailto:/tel:/sms:/# links, data:/cid: images and Liquid-valued URLs (Tandem's link tags included),
 * which are only known per person.
 */
export function extractUrls(html: string, hostedAssetPrefixes: readonly string[]): ExtractedUrl[] {
  const seen = new Set<string>();
  const out: ExtractedUrl[] = [];
  for (const u of scanHtml(html)) {
    if (isLiquidValued(u.url) || isNonWebLink(u.url) || /^(data|cid|javascript):/i.test(u.url)) continue;
    const key = `${u.kind} ${u.url}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const action = isHosted(u.url, hostedAssetPrefixes) ? 'hosted' : /^https?:\/\/[^/]/i.test(u.url) ? 'fetch' : 'invalid';
    out.push({ url: u.url, kind: u.kind, action });
  }
  return out;
}
