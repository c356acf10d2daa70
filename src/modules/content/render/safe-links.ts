// Rendered links may only be http, https, mailto or tel (or relative / a fragment). A trait printed
// into href (`<a href="{{ customer.website }}">`) could otherwise carry `javascript:` into an email
// or the view-in-browser page. Every rendered HTML passes through neutraliseUnsafeLinks (the
// renderer's last step), which rewrites any other scheme to "#".
//
// The attribute values are read as a browser reads them: tags are tokenised (quoted values may hold
// ">"), character references are decoded once (`&#106;avascript&colon;`), and tab, newline and the
// other C0 controls and spaces a URL parser skips are ignored, whatever the case. A value whose
// scheme part still holds an undecoded reference is treated as unsafe.

/** Attributes that navigate or submit when followed. */
const URL_ATTRIBUTES = new Set(['href', 'xlink:href', 'action', 'formaction']);
export const SAFE_SCHEMES = new Set(['http', 'https', 'mailto', 'tel']);

const NAMED: Record<string, string> = {
  colon: ':', tab: '\t', newline: '\n', plus: '+', period: '.', amp: '&', quot: '"', apos: "'", lt: '<', gt: '>', nbsp: '\u00a0',
};

function decodeReferences(value: string): string {
  return value.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z][a-zA-Z0-9]*);?/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd';
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

/** The scheme a browser would see in this (raw, still-encoded) attribute value: null when relative. */
export function linkScheme(rawValue: string): string | null {
  // eslint-disable-next-line no-control-regex
  const plain = decodeReferences(rawValue).replace(/[\u0000-\u0020]/g, '');
  const colon = plain.indexOf(':');
  if (colon < 0) return null;
  const head = plain.slice(0, colon).toLowerCase();
  // Not a scheme (a path, query or fragment before the colon, "10:30"): relative.
  return /^[a-z][a-z0-9+.-]*$/.test(head) ? head : null;
}

/** true when following this value could run something: any scheme but the safe ones. */
export function isUnsafeLink(rawValue: string): boolean {
  const scheme = linkScheme(rawValue);
  return scheme !== null && !SAFE_SCHEMES.has(scheme);
}

/** The HTML with every unsafe URL attribute value replaced by "#". Unchanged HTML is returned as is. */
export function neutraliseUnsafeLinks(html: string): string {
  if (!/(?:href|action)\s*=/i.test(html)) return html;
  let out = '';
  let last = 0;
  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt < 0) break;
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    if (!/[a-zA-Z]/.test(html.charAt(lt + 1))) {
      i = lt + 1;
      continue;
    }
    // The tag name, then its attributes until ">" (quoted values may hold ">").
    let j = lt + 1;
    while (j < n && !/[\s/>]/.test(html.charAt(j))) j++;
    for (;;) {
      while (j < n && /[\s/]/.test(html.charAt(j))) j++;
      if (j >= n || html.charAt(j) === '>') break;
      const nameStart = j;
      while (j < n && !/[\s/>=]/.test(html.charAt(j))) j++;
      const name = html.slice(nameStart, j).toLowerCase();
      let k = j;
      while (k < n && /\s/.test(html.charAt(k))) k++;
      if (html.charAt(k) !== '=') continue;
      k++;
      while (k < n && /\s/.test(html.charAt(k))) k++;
      const quote = html.charAt(k);
      let valueStart: number;
      let valueEnd: number;
      if (quote === '"' || quote === "'") {
        valueStart = k + 1;
        const close = html.indexOf(quote, valueStart);
        valueEnd = close < 0 ? n : close;
        j = close < 0 ? n : close + 1;
      } else {
        valueStart = k;
        while (k < n && !/[\s>]/.test(html.charAt(k))) k++;
        valueEnd = k;
        j = k;
      }
      if (URL_ATTRIBUTES.has(name) && isUnsafeLink(html.slice(valueStart, valueEnd))) {
        out += `${html.slice(last, valueStart)}#`;
        last = valueEnd;
      }
    }
    i = j + 1;
  }
  return last === 0 ? html : out + html.slice(last);
}
