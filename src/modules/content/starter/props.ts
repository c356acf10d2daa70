// Typed props of a component: a small, JSON-serialisable schema (stored with the component), a
// validator whose errors name the failing field (`blocks[2].props.items[1].label`), and the
// preparation that turns valid props into the safe values a component's Liquid sees: text escaped
// for HTML, rich text reduced to a few formatting tags, URLs limited to safe schemes, and every
// `{{` / `{%` neutralised so marketer text can never run as Liquid in the per-person pass.
import { AppError } from '../../../errors.ts';

export type PropField =
  | { type: 'text'; label?: string; optional?: boolean; maxLength?: number }
  | { type: 'richText'; label?: string; optional?: boolean; maxLength?: number }
  /** An image asset: `{ url, alt, width }` (width in CSS pixels, 1–600). */
  | { type: 'image'; label?: string; optional?: boolean }
  /** A link: `{ url, label }`. */
  | { type: 'link'; label?: string; optional?: boolean }
  /** A hex colour: `#rgb` or `#rrggbb`. */
  | { type: 'colour'; label?: string; optional?: boolean }
  | { type: 'number'; label?: string; optional?: boolean; min?: number; max?: number; integer?: boolean }
  | { type: 'boolean'; label?: string; optional?: boolean }
  | { type: 'list'; label?: string; optional?: boolean; items: PropsSchema; minItems?: number; maxItems?: number };

export type PropsSchema = Readonly<Record<string, PropField>>;

export type PropValue = string | number | boolean | PropObject | PropObject[];
export interface PropObject {
  [key: string]: PropValue;
}

const DEFAULT_MAX_TEXT = 2000;
const DEFAULT_MAX_RICH = 20_000;
const MAX_LIST = 50;
const HEX = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
const LINK_SCHEMES = new Set(['https:', 'http:', 'mailto:', 'tel:']);

function invalid(field: string, message: string): AppError {
  return new AppError('request.invalid', `${field}: ${message}`, { field });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** HTML-escape, then break every `{{` and `{%` so the per-person Liquid pass prints them as text. */
export function escapeText(value: string): string {
  return neutraliseLiquid(
    value
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;'),
  );
}

/** `{{ x }}` becomes `{{ '{' }}{ x }}`: Liquid renders it back to the literal `{{ x }}`. */
export function neutraliseLiquid(value: string): string {
  return value.replace(/\{(?=[{%])/g, "{{ '{' }}");
}

const LIQUID = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g;

/**
 * Copy a marketer wrote (text, rich-text text, link labels and URLs): HTML-escaped, with its Liquid
 * (`{{ customer.first_name | default: 'there' }}`, `{% if customer.vip %}`) kept for the per-person
 * render, whose outputs are HTML-escaped there. Double quotes inside Liquid become single quotes (the
 * same to Liquid) so the copy also works inside an attribute; Liquid holding both kinds is refused.
 * An unclosed `{{` stays text.
 */
export function escapeCopy(value: string, field: string): string {
  let out = '';
  let last = 0;
  for (const m of value.matchAll(LIQUID)) {
    let liquid = m[0];
    if (liquid.includes('"')) {
      if (liquid.includes("'")) throw invalid(field, 'Liquid here may use single or double quotes, not both');
      liquid = liquid.replace(/"/g, "'");
    }
    out += escapeText(value.slice(last, m.index)) + liquid;
    last = m.index + m[0].length;
  }
  return out + escapeText(value.slice(last));
}

const RICH_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'br', 'p', 'ul', 'ol', 'li']);

/**
 * Rich text: keeps `b strong i em u br p ul ol li` (their attributes dropped) and `<a href>` with an
 * http(s)/mailto/tel URL (other attributes dropped); any other tag is escaped and shows as text.
 */
export function sanitiseRichText(value: string, field = 'text'): string {
  let out = '';
  let last = 0;
  const tag = /<(\/?)([a-z]+)((?:\s+[^<>]*)?)\/?>/gi;
  for (let m = tag.exec(value); m; m = tag.exec(value)) {
    out += escapeCopy(value.slice(last, m.index), field);
    last = m.index + m[0].length;
    const closing = m[1] === '/';
    const name = (m[2] ?? '').toLowerCase();
    const attrs = (m[3] ?? '').trim();
    if (RICH_TAGS.has(name)) {
      // Formatting tags keep no attributes (no style, class or event handlers).
      out += name === 'br' ? '<br />' : `<${closing ? '/' : ''}${name}>`;
    } else if (name === 'a' && closing) {
      out += '</a>';
    } else if (name === 'a') {
      const href = /^href\s*=\s*"([^"]*)"$/i.exec(attrs)?.[1];
      const url = href === undefined ? undefined : safeUrl(href.replace(/&amp;/g, '&'));
      out += url ? `<a href="${escapeText(url)}">` : '<a>';
    } else {
      out += escapeText(m[0]);
    }
  }
  return out + escapeCopy(value.slice(last), field);
}

function safeUrl(raw: string, schemes: ReadonlySet<string> = LINK_SCHEMES): string | undefined {
  if (raw.length > 2000) return undefined;
  try {
    const url = new URL(raw);
    return schemes.has(url.protocol) ? raw : undefined;
  } catch {
    return undefined;
  }
}

function checkString(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (value.length > max) throw invalid(field, `must be at most ${max} characters`);
  return value;
}

function prepareField(def: PropField, value: unknown, field: string): PropValue {
  switch (def.type) {
    case 'text':
      return escapeCopy(checkString(value, field, def.maxLength ?? DEFAULT_MAX_TEXT), field);
    case 'richText':
      return sanitiseRichText(checkString(value, field, def.maxLength ?? DEFAULT_MAX_RICH), field);
    case 'colour': {
      const s = checkString(value, field, 7);
      if (!HEX.test(s)) throw invalid(field, 'must be a hex colour like #1a2b3c');
      return s.toLowerCase();
    }
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, 'must be a number');
      if (def.integer && !Number.isInteger(value)) throw invalid(field, 'must be a whole number');
      if (def.min !== undefined && value < def.min) throw invalid(field, `must be at least ${def.min}`);
      if (def.max !== undefined && value > def.max) throw invalid(field, `must be at most ${def.max}`);
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw invalid(field, 'must be true or false');
      return value;
    case 'link': {
      if (!isObject(value)) throw invalid(field, 'must be an object with url and label');
      const url = checkString(value['url'], `${field}.url`, 2000);
      // Liquid may personalise a link (`https://shop.example/?u={{ customer.id }}`); the scheme is checked without it.
      if (!safeUrl(url.replace(LIQUID, 'x'))) throw invalid(`${field}.url`, 'must be an http(s), mailto or tel URL');
      const label = escapeCopy(checkString(value['label'], `${field}.label`, 200), `${field}.label`);
      return { url: escapeCopy(url, `${field}.url`), label };
    }
    case 'image': {
      if (!isObject(value)) throw invalid(field, 'must be an object with url, alt and width');
      const url = checkString(value['url'], `${field}.url`, 2000);
      if (!safeUrl(url, new Set(['https:', 'http:']))) throw invalid(`${field}.url`, 'must be an http(s) URL');
      const alt = escapeText(checkString(value['alt'], `${field}.alt`, 300));
      const width = value['width'];
      if (typeof width !== 'number' || !Number.isInteger(width) || width < 1 || width > 600) {
        throw invalid(`${field}.width`, 'must be a whole number of pixels from 1 to 600');
      }
      return { url: escapeText(url), alt, width };
    }
    case 'list': {
      if (!Array.isArray(value)) throw invalid(field, 'must be a list');
      const max = Math.min(def.maxItems ?? MAX_LIST, MAX_LIST);
      if (value.length < (def.minItems ?? 0)) throw invalid(field, `needs at least ${def.minItems} items`);
      if (value.length > max) throw invalid(field, `may have at most ${max} items`);
      return value.map((item, i) => prepareProps(def.items, item, `${field}[${i}]`));
    }
  }
}

/**
 * Validate `props` against `schema` and return the prepared (escaped, sanitised) values.
 * Throws AppError `request.invalid` with `details.field` = `${path}.<name>` of the first failure.
 * Unknown keys are refused (a typo should not silently vanish).
 */
export function prepareProps(schema: PropsSchema, props: unknown, path = 'props'): PropObject {
  if (!isObject(props)) throw invalid(path, 'must be an object');
  for (const key of Object.keys(props)) {
    if (!Object.hasOwn(schema, key)) throw invalid(`${path}.${key}`, 'is not a prop of this component');
  }
  const out: PropObject = {};
  for (const [name, def] of Object.entries(schema)) {
    const field = `${path}.${name}`;
    const value = props[name];
    if (value === undefined || value === null) {
      if (def.optional) continue;
      throw invalid(field, 'is required');
    }
    out[name] = prepareField(def, value, field);
  }
  return out;
}
