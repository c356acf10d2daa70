// Reads compiled email HTML (htmlparser2) for the URLs it points at: links (<a href>), images
// (<img src>) and background images (the `background` attribute MJML writes on tables and cells, and
// `url(…)` in inline styles). Shared by the lint rules and the link checker.
import { Parser } from 'htmlparser2';

export type UrlKind = 'link' | 'image';

export interface HtmlUrl {
  kind: UrlKind;
  /** The attribute value as written (entities decoded), trimmed. */
  url: string;
  /** Where it came from: 'a', 'img', 'background'. */
  source: 'a' | 'img' | 'background';
  /** 1-based line in the scanned HTML. */
  line: number;
  /** For images: the alt attribute (undefined when absent). */
  alt?: string;
}

const STYLE_URL = /background(?:-image)?\s*:[^;]*?url\(\s*(['"]?)([^'")]+)\1\s*\)/gi;

/** Every link and image URL in `html`, in document order. */
export function scanHtml(html: string): HtmlUrl[] {
  const out: HtmlUrl[] = [];
  // Line starts, so an element's start index maps to its line by binary search.
  const starts = [0];
  for (let i = html.indexOf('\n'); i !== -1; i = html.indexOf('\n', i + 1)) starts.push(i + 1);
  const lineAt = (index: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const parser = new Parser({
    onopentag(name, attribs) {
      const line = lineAt(parser.startIndex);
      if (name === 'a' && attribs['href'] !== undefined) {
        out.push({ kind: 'link', url: attribs['href'].trim(), source: 'a', line });
      }
      if (name === 'img' && attribs['src'] !== undefined) {
        const img: HtmlUrl = { kind: 'image', url: attribs['src'].trim(), source: 'img', line };
        if (attribs['alt'] !== undefined) img.alt = attribs['alt'];
        out.push(img);
      }
      const background = attribs['background']?.trim();
      if (background) out.push({ kind: 'image', url: background, source: 'background', line });
      const style = attribs['style'];
      if (style) {
        for (const m of style.matchAll(STYLE_URL)) {
          const url = (m[2] ?? '').trim();
          if (url) out.push({ kind: 'image', url, source: 'background', line });
        }
      }
    },
  }, { decodeEntities: true, lowerCaseAttributeNames: true });
  parser.end(html);
  return out;
}

/** A URL with Liquid in it is decided per person: nothing to check before sending. */
export function isLiquidValued(url: string): boolean {
  return url.includes('{{') || url.includes('{%');
}

/** Links that are not web pages: nothing to fetch and nothing insecure about them. */
export function isNonWebLink(url: string): boolean {
  return url === '' || url.startsWith('#') || /^(mailto|tel|sms):/i.test(url);
}

export function isHosted(url: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => p !== '' && url.startsWith(p));
}
