// One YAML file per segment: `segments/<key>.yaml` with key, name, description (when not empty), kind
// and, for a dynamic segment, its definition (the API's JSON document, docs/segments.md) with keys in
// the definition schema's order. Manual lists are files too, without members: members are data, not
// code, and neither pull nor apply reads or writes them.
import { stringify } from 'yaml';
import { z } from 'zod';
import { condition, type Condition } from '../modules/segments/index.ts';
import { canonical, issueProblems, type Problem } from './format.ts';

export const SEGMENT_DIR = 'segments';
export const SEGMENT_KINDS = ['dynamic', 'manual'] as const;
export type SegmentKind = (typeof SEGMENT_KINDS)[number];

/** The server's rule for keys (the segments service refuses others); keys become file names. */
const KEY = /^[a-z0-9][a-z0-9_-]{0,99}$/;

export function isSegmentKey(key: string): boolean {
  return KEY.test(key);
}

export interface SegmentDoc {
  key: string;
  name: string;
  /** '' when the file has none. */
  description: string;
  kind: SegmentKind;
  /** Parsed by the server's schema (defaults filled in); null for a manual list. */
  definition: Condition | null;
}

export interface LocalSegment extends SegmentDoc {
  /** Relative to the directory: `segments/vip.yaml`. */
  file: string;
}

/** Segment ids and template ids by which a definition may name them, mapped to the key and name files use. */
export interface RefNames {
  segments: ReadonlyMap<string, string>;
  templates: ReadonlyMap<string, string>;
}

export function segmentFile(key: string): string {
  return `${SEGMENT_DIR}/${key}.yaml`;
}

type Normalised = { ok: true; definition: Condition } | { ok: false; issues: readonly z.core.$ZodIssue[] };

/** A definition as the server stores it: parsed by the same schema (defaults in, keys in schema order). */
export function normaliseDefinition(raw: unknown): Normalised {
  const parsed = condition.safeParse(raw);
  return parsed.success ? { ok: true, definition: parsed.data } : { ok: false, issues: parsed.error.issues };
}

/** Every leaf with its field path, as the server names fields: `definition.conditions[1].segment`. */
export function leafPaths(c: Condition, at = 'definition'): Array<{ field: string; leaf: Condition }> {
  if (c.type === 'and' || c.type === 'or') return c.conditions.flatMap((x, i) => leafPaths(x, `${at}.conditions[${i}]`));
  if (c.type === 'not') return leafPaths(c.condition, `${at}.condition`);
  return [{ field: at, leaf: c }];
}

/**
 * The definition with segments named by key and templates by name where it used ids: ids differ from one
 * workspace to the next, keys and names do not. Pull writes this, and plans compare it.
 */
export function portable(c: Condition, names: RefNames): Condition {
  switch (c.type) {
    case 'and':
    case 'or':
      return { ...c, conditions: c.conditions.map((x) => portable(x, names)) };
    case 'not':
      return { ...c, condition: portable(c.condition, names) };
    case 'segment':
      return { ...c, segment: names.segments.get(c.segment) ?? c.segment };
    case 'message':
      return c.template === undefined ? c : { ...c, template: names.templates.get(c.template) ?? c.template };
    case 'attribute':
    case 'event':
    case 'group':
    case 'reachability':
    case 'topic':
      return c;
  }
}

const MANUAL_NOTE = '# A manual list: its members are data, not code; tandem apply never adds or removes any.\n';

/** The file's text. A stored definition the current schema refuses is written as it is, to be fixed in the file. */
export function toSegmentYaml(s: { key: string; name: string; description: string; kind: SegmentKind; definition: unknown }, names: RefNames): string {
  let definition: unknown = s.definition;
  if (definition !== null && definition !== undefined) {
    const n = normaliseDefinition(definition);
    if (n.ok) definition = portable(n.definition, names);
  }
  const doc = {
    key: s.key, name: s.name, ...(s.description === '' ? {} : { description: s.description }), kind: s.kind,
    ...(definition === null || definition === undefined ? {} : { definition }),
  };
  const text = stringify(doc, { lineWidth: 0, blockQuote: 'literal', indent: 2, aliasDuplicateObjects: false });
  return s.kind === 'manual' ? `${MANUAL_NOTE}${text}` : text;
}

const text = (max: number) => z.string().max(max).refine((v) => !v.includes('\0'), 'must not contain NUL characters');
const fileShape = z.object({
  key: z.unknown(), name: text(200).min(1), description: text(2000).optional(),
  kind: z.enum(SEGMENT_KINDS, {
    error: (iss) => (iss.input === undefined ? 'required: dynamic or manual' : `must be dynamic or manual (got ${JSON.stringify(iss.input)})`),
  }), definition: z.unknown().optional(),
}).strict();

/** Checks a parsed segment file whose file name says `expectedKey`. */
export function toSegment(file: string, expectedKey: string, value: Record<string, unknown>): { doc?: LocalSegment; problems: Problem[] } {
  const problems: Problem[] = [];
  if (value.key === undefined) problems.push({ file, field: 'key', message: `required (the file name: "${expectedKey}")` });
  else if (value.key !== expectedKey) problems.push({ file, field: 'key', message: `must equal the file name "${expectedKey}" (got ${JSON.stringify(value.key)})` });
  const shape = fileShape.safeParse(value);
  if (!shape.success) problems.push(...issueProblems(file, shape.error.issues));
  let definition: Condition | null = null;
  if (shape.success && shape.data.kind === 'manual' && shape.data.definition !== undefined && shape.data.definition !== null) {
    problems.push({ file, field: 'definition', message: 'a manual list has no definition (its members are added by the API or an import)' });
  }
  if (shape.success && shape.data.kind === 'dynamic') {
    const n = normaliseDefinition(shape.data.definition);
    if (shape.data.definition === undefined) problems.push({ file, field: 'definition', message: 'required for a dynamic segment' });
    else if (!n.ok) problems.push(...issueProblems(file, n.issues.map((i) => ({ ...i, path: ['definition', ...i.path] }))));
    // PostgreSQL jsonb cannot hold NUL characters; the server would refuse it half-way through apply.
    else if (JSON.stringify(n.definition).includes('\\u0000')) problems.push({ file, field: 'definition', message: 'must not contain NUL characters' });
    else definition = n.definition;
  }
  if (problems.length > 0 || !shape.success) return { problems };
  const { name, description, kind } = shape.data;
  return { doc: { key: expectedKey, name, description: description ?? '', kind, definition, file }, problems };
}

function comparable(definition: unknown, names: RefNames): string {
  if (definition === null || definition === undefined) return 'null';
  const n = normaliseDefinition(definition);
  return JSON.stringify(canonical(n.ok ? portable(n.definition, names) : definition));
}

/** Same name, description, kind and definition (structurally: key order, defaults and ids-for-keys do not count). */
export function sameSegment(
  local: SegmentDoc, remote: { name: string; description: string; kind: SegmentKind; definition: unknown }, names: RefNames,
): boolean {
  return local.name === remote.name && local.description === remote.description && local.kind === remote.kind
    && comparable(local.definition, names) === comparable(remote.definition, names);
}
