// Making client JSON storable, for every source. PostgreSQL text and jsonb refuse U+0000 and unpaired
// UTF-16 surrogates, which JSON allows: both become U+FFFD (what a UTF-8 encoder does to a lone
// surrogate anyway). Deeper nesting than MAX_JSON_DEPTH is refused: it would only exhaust stacks.
import { AppError } from '../../errors.ts';

export const MAX_JSON_DEPTH = 64;

export type JsonPath = Array<string | number>;

/** ["batch", 3, "userId"] -> "batch[3].userId" */
export function fieldOf(path: Readonly<JsonPath>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${p}` : p;
  }
  return out || 'body';
}

// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function cleanString(s: string): string {
  UNSTORABLE.lastIndex = 0;
  return UNSTORABLE.test(s) ? s.replace(UNSTORABLE, '\uFFFD') : s;
}

/**
 * Makes parsed JSON storable, in place (the request's body is ours; copying every object would only
 * feed the garbage collector). Throws request.invalid naming the field when nested deeper than
 * MAX_JSON_DEPTH. `path` is where `value` sits in the request (it may start with a prefix).
 * An object whose keys need cleaning, or that has a "__proto__" key, is rebuilt with
 * Object.fromEntries, which defines own properties: such a key stays data, never a prototype.
 */
export function cleanJson(value: unknown, path: JsonPath = [], depth = 0): unknown {
  if (typeof value === 'string') return cleanString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_JSON_DEPTH) {
    const field = fieldOf(path);
    throw new AppError('request.invalid', `${field}: nested deeper than ${MAX_JSON_DEPTH} levels`, { field });
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'string') {
        const c = cleanString(v);
        if (c !== v) value[i] = c;
      } else if (v !== null && typeof v === 'object') {
        path.push(i);
        value[i] = cleanJson(v, path, depth + 1);
        path.pop();
      }
    }
    return value;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  let rebuild = false;
  for (const k of keys) {
    if (k === '__proto__' || cleanString(k) !== k) {
      rebuild = true;
      continue;
    }
    const v = obj[k];
    if (typeof v === 'string') {
      const c = cleanString(v);
      if (c !== v) obj[k] = c;
    } else if (v !== null && typeof v === 'object') {
      path.push(k);
      obj[k] = cleanJson(v, path, depth + 1);
      path.pop();
    }
  }
  if (!rebuild) return obj;
  return Object.fromEntries(keys.map((k) => {
    const v = Object.getOwnPropertyDescriptor(obj, k)?.value as unknown;
    path.push(k);
    const out = k === '__proto__' || cleanString(k) !== k ? cleanJson(v, path, depth + 1) : v;
    path.pop();
    return [cleanString(k), out];
  }));
}
