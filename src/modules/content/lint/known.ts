// The names a template may use, learned from the event catalog: person attributes are the
// properties of the `identify` type (traits), event properties those of every `track` type.
// Paths are the catalog's dotted paths ("address.city"); each keeps its data type so that
// `customer.tags.first` (a property of an array) is not mistaken for an unknown name.
import type { EventType } from '../../catalog/index.ts';

export interface KnownNames {
  /** customer.<path> / person.attributes.<path>: path -> data type. */
  attributes: ReadonlyMap<string, string>;
  /** event.<path>: path -> data type. */
  eventProperties: ReadonlyMap<string, string>;
}

/** Attributes every person has whether or not an identify call ever sent them. */
export const BUILTIN_ATTRIBUTES: readonly string[] = [
  'id', 'cio_id', 'email', 'created_at', 'phone', 'locale', 'timezone',
];

/** The fields of `person` (render/scope.ts); `person.attributes.<…>` is checked like `customer.<…>`. */
export const PERSON_FIELDS: readonly string[] = ['id', 'external_id', 'email', 'phone', 'locale', 'timezone', 'attributes'];

/** The catalog flattens objects to this many segments (catalog/infer.ts MAX_DEPTH). */
const CATALOG_DEPTH = 3;

function add(into: Map<string, string>, path: string, type: string): void {
  const seen = into.get(path);
  // One path seen with two types across event types: an object wins, so its children are checked.
  if (seen === undefined || type === 'object') into.set(path, type);
}

export function buildKnownNames(eventTypes: readonly EventType[]): KnownNames {
  const attributes = new Map<string, string>(BUILTIN_ATTRIBUTES.map((a) => [a, 'string']));
  const eventProperties = new Map<string, string>();
  for (const t of eventTypes) {
    const into = t.type === 'identify' ? attributes : t.type === 'track' ? eventProperties : undefined;
    if (!into) continue;
    for (const p of t.properties) add(into, p.path, p.type);
  }
  return { attributes, eventProperties };
}

/**
 * Whether `segments` (the path after the root, e.g. ['address', 'city']) names something known.
 * Known: the path itself, anything below a known non-object value (`tags.first`, `name.size`),
 * and anything deeper than the catalog records below a known prefix.
 */
export function isKnownPath(known: ReadonlyMap<string, string>, segments: readonly string[]): boolean {
  if (segments.length === 0) return true;
  for (let n = 1; n <= segments.length; n++) {
    const type = known.get(segments.slice(0, n).join('.'));
    if (type === undefined) return false;
    if (n === segments.length) return true;
    if (type !== 'object' || n >= CATALOG_DEPTH) return true;
  }
  return true;
}
