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
 * A storable deep copy of parsed JSON; throws request.invalid naming the field when nested deeper
 * than MAX_JSON_DEPTH. `path` is where `value` sits in the request (it may start with a prefix).
 */
export function cleanJson(value: unknown, path: JsonPath = [], depth = 0): unknown {
  if (typeof value === 'string') return cleanString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_JSON_DEPTH) {
    const field = fieldOf(path);
    throw new AppError('request.invalid', `${field}: nested deeper than ${MAX_JSON_DEPTH} levels`, { field });
  }
  if (Array.isArray(value)) {
    return value.map((v: unknown, i) => {
      path.push(i);
      const out = cleanJson(v, path, depth + 1);
      path.pop();
      return out;
    });
  }
  // Object.fromEntries defines own properties, so a "__proto__" key stays data, never a prototype.
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => {
    path.push(k);
    const out = cleanJson(v, path, depth + 1);
    path.pop();
    return [cleanString(k), out];
  }));
}
