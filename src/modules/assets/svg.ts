// SVG files are sanitized before they are stored, so that a stored SVG can neither run script nor make
// the viewer fetch anything: an element allowlist, no event handlers, no links except to "#id" in the
// same document, no url() that leaves the document, no CSS imports, no entities or DOCTYPE.
import sanitizeHtml from 'sanitize-html';

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';

// Elements that draw, group, define paint servers and filters. Not here (so removed with their text):
// script, foreignObject, a, image, feImage, animate/set (they can rewrite href), iframe, and anything
// with a namespace prefix.
const ALLOWED_TAGS = [
  'svg', 'g', 'defs', 'symbol', 'use', 'title', 'desc', 'switch', 'view', 'style',
  'path', 'rect', 'circle', 'ellipse', 'line', 'polyline', 'polygon',
  'text', 'tspan', 'textPath',
  'linearGradient', 'radialGradient', 'stop', 'pattern', 'clipPath', 'mask', 'marker',
  'filter', 'feBlend', 'feColorMatrix', 'feComponentTransfer', 'feComposite', 'feConvolveMatrix',
  'feDiffuseLighting', 'feDisplacementMap', 'feDistantLight', 'feDropShadow', 'feFlood', 'feFuncA',
  'feFuncB', 'feFuncG', 'feFuncR', 'feGaussianBlur', 'feMerge', 'feMergeNode', 'feMorphology',
  'feOffset', 'fePointLight', 'feSpecularLighting', 'feSpotLight', 'feTile', 'feTurbulence',
];

/** The target of every url(...) in a value; a value whose url() is not "#id" must go. */
const URL_FN = /url\s*\(\s*(['"]?)([^)'"]*)\1\s*\)/gi;

function onlyLocalUrls(value: string): boolean {
  if (/url\s*\(/i.test(value.replace(URL_FN, ''))) return false; // an url( the pattern could not read
  for (const m of value.matchAll(URL_FN)) if (!(m[2] ?? '').trim().startsWith('#')) return false;
  return true;
}

/**
 * CSS from a <style> element or a style attribute, or undefined when it must go. Escapes can spell
 * anything ("@\69mport"), so CSS with a backslash is dropped whole; @import rules are removed; a
 * declaration whose url() leaves the document is removed.
 */
export function cleanCss(css: string): string | undefined {
  const text = css.replace(/\/\*[\s\S]*?\*\//g, '');
  if (text.includes('\\') || /expression\s*\(|-moz-binding|behavior\s*:|javascript:/i.test(text)) return undefined;
  const noImports = text.replace(/@import\b[^;]*(;|$)/gi, '');
  return noImports.replace(/[^;{}]*url\s*\([^;{}]*/gi, (decl) => (onlyLocalUrls(decl) ? decl : ''));
}

function allowedAttribute(name: string, value: string): boolean {
  const lower = name.toLowerCase();
  const local = lower.includes(':') ? lower.slice(lower.indexOf(':') + 1) : lower;
  if (lower.startsWith('on')) return false;
  if (lower === 'xmlns') return value === SVG_NS;
  if (lower === 'xmlns:xlink') return value === XLINK_NS;
  // Other prefixes (other namespaces, xml:base) are not needed to draw and can smuggle references.
  if (lower.includes(':') && !['xlink:href', 'xml:space', 'xml:lang'].includes(lower)) return false;
  // Only a same-document reference: "#id". Control characters and spaces would hide a scheme.
  if (local === 'href') return /^#[^\s\p{Cc}]*$/u.test(value.trim());
  if (local === 'src' || local === 'style' || local === 'attributename') return false;
  return onlyLocalUrls(value) && !/javascript:/i.test(value.replace(/[\s\p{Cc}]/gu, ''));
}

function filterAttributes(tagName: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
  const out: sanitizeHtml.Attributes = {};
  for (const [name, value] of Object.entries(attribs)) {
    if (name.toLowerCase() === 'style') {
      const css = cleanCss(value);
      if (css?.trim()) out[name] = css;
    } else if (allowedAttribute(name, value)) {
      out[name] = value;
    }
  }
  if (tagName === 'svg' && out.xmlns === undefined) out.xmlns = SVG_NS;
  return { tagName, attribs: out };
}

/** The sanitized SVG text, or undefined when nothing drawable is left (no <svg> root). */
export function sanitizeSvg(source: string): string | undefined {
  const styles: string[] = [];
  let clean = sanitizeHtml(source, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: false,
    allowVulnerableTags: true, // <style> is allowed on purpose: its text is cleaned below, not passed raw
    disallowedTagsMode: 'completelyDiscard',
    nonTextTags: ['script', 'style', 'foreignObject', 'textarea'],
    parser: { xmlMode: true, decodeEntities: true, lowerCaseTags: false, lowerCaseAttributeNames: false },
    transformTags: { '*': filterAttributes },
    // A <style> element's text would be written out raw (htmlparser2 has already decoded its entities,
    // so "&lt;script" would become markup): take it out here and write it back escaped.
    exclusiveFilter: (frame) => {
      if (frame.tag !== 'style') return false;
      const css = cleanCss(frame.text);
      if (css?.trim()) styles.push(css);
      return true;
    },
  }).trim();
  const root = /^<svg\b[^>]*>/.exec(clean);
  if (!root) return undefined;
  if (styles.length) {
    const escaped = styles.join('\n').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    clean = `${root[0]}<style>${escaped}</style>${clean.slice(root[0].length)}`;
  }
  return clean;
}

/** Looks like an SVG document: optional XML declaration, comments and DOCTYPE, then an <svg> root. */
export function looksLikeSvg(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  const prolog = /^\uFEFF?\s*(?:<\?xml[^>]*\?>\s*)?(?:(?:<!--[\s\S]*?-->|<!DOCTYPE[^[>]*(?:\[[\s\S]*?\])?\s*>)\s*)*<svg[\s>/]/;
  return prolog.test(text) ? text : undefined;
}

/** width/height from the viewBox, for SVGs that give no absolute size. */
export function viewBoxSize(svg: string): { width: number; height: number } | undefined {
  const root = /^<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const vb = /\sviewBox\s*=\s*["']\s*([-\d.e]+)[\s,]+([-\d.e]+)[\s,]+([\d.e]+)[\s,]+([\d.e]+)\s*["']/i.exec(root);
  if (!vb) return undefined;
  const width = Math.round(Number(vb[3])), height = Math.round(Number(vb[4]));
  return width > 0 && height > 0 ? { width, height } : undefined;
}
