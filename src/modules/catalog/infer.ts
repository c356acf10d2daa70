// Property type inference and flattening for the event catalog. Runs on every ingested event, so it
// allocates as little as it can: one callback per path, no intermediate arrays.
import type { EventKind } from '../../db/schema.ts';

export type DataType = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object' | 'datetime';

export const DATA_TYPES: readonly DataType[] = ['string', 'number', 'boolean', 'null', 'array', 'object', 'datetime'];

/** Nested objects are flattened to dotted paths up to this many segments ("a.b.c"). */
export const MAX_DEPTH = 3;
/** Paths looked at per event; the rest of a very wide event is not catalogued. */
export const MAX_PATHS_PER_EVENT = 200;
/** Longer keys are not catalogued (they are almost always data used as keys). */
export const MAX_PATH_LENGTH = 200;

export const UNNAMED = '(unnamed)';

// ISO-8601 date-time with a time part ("2026-01-31T10:00", seconds, fraction and zone optional).
// A bare date ("2026-01-31") stays a string: too many ids and versions look like one.
const ISO_DATETIME = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?$/i;

export function inferType(value: unknown): DataType {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      // Cheap pre-check before the regex: "YYYY-MM-DDT…" has '-' at 4 and 'T' at 10.
      return value.length >= 16 && value.length <= 40 && value.charCodeAt(4) === 45 && ISO_DATETIME.test(value)
        ? 'datetime' : 'string';
    case 'number':
    case 'bigint':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'object':
      return Array.isArray(value) ? 'array' : 'object';
    case 'undefined':
      return 'null';
    case 'function':
    case 'symbol':
      break;
  }
  // Not JSON; ingest never hands these over.
  return 'string';
}

/**
 * Calls visit(path, type) for every property, depth-first, in key order. Objects are reported
 * themselves ("address": object) and their keys below ("address.city": string), up to MAX_DEPTH
 * segments; arrays are leaves. At most maxPaths paths are visited.
 */
export function flattenProperties(
  props: Record<string, unknown>,
  visit: (path: string, type: DataType) => void,
  maxPaths = MAX_PATHS_PER_EVENT,
): void {
  let left = maxPaths;
  const walk = (obj: Record<string, unknown>, prefix: string, depth: number): boolean => {
    for (const key of Object.keys(obj)) {
      if (left <= 0) return false;
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (path.length > MAX_PATH_LENGTH || key === '') continue;
      const value = obj[key];
      const type = inferType(value);
      left--;
      visit(path, type);
      if (type === 'object' && depth < MAX_DEPTH && !walk(value as Record<string, unknown>, path, depth + 1)) return false;
    }
    return true;
  };
  walk(props, '', 1);
}

/** The catalog name of an event: track/page/screen by name, identify/group/alias by their type. */
export function catalogName(type: EventKind, name: string | null): string {
  switch (type) {
    case 'identify':
    case 'group':
    case 'alias':
      return type;
    case 'track':
    case 'page':
    case 'screen':
      return name === null || name === '' ? UNNAMED : name;
  }
}
