// One YAML file per content resource: `<kind dir>/<name>.yaml` with `name`, `status`, then the body's
// fields in the order of the kind's schema. Writing is deterministic (pull -> pull is byte-identical);
// reading validates everything and reports problems as "file: field: message".
import { parseDocument, stringify, type ScalarTag } from 'yaml';
import type { z } from 'zod';
import { BODY_SCHEMAS, KIND_PATH, RESOURCE_KINDS, type ResourceKind } from '../modules/content/index.ts';

/** The order apply creates and updates in: templates name layouts and components. */
export const APPLY_ORDER: readonly ResourceKind[] = ['layout', 'snippet', 'component', 'template'];

export const STATUSES = ['published', 'draft'] as const;
export type Status = (typeof STATUSES)[number];

/** Top-level keys that are not body fields. */
const META_KEYS = ['name', 'status'] as const;

export type Body = Record<string, unknown>;

/** What a file describes: a content resource, or a segment (segments.ts). */
export type AsCodeKind = ResourceKind | 'segment';

export interface ResourceDoc {
  kind: ResourceKind;
  name: string;
  status: Status;
  body: Body;
}

/** A problem with one file; `field` is a path such as `email.blocks[0].component`, or `''` for the whole file. */
export interface Problem {
  file: string;
  field: string;
  message: string;
}

export function problemLine(p: Problem): string {
  return p.field === '' ? `${p.file}: ${p.message}` : `${p.file}: ${p.field}: ${p.message}`;
}

/** `layouts/brand.yaml`: the file of a resource, relative to the directory, with `/` separators. */
export function resourceFile(kind: ResourceKind, name: string): string {
  return `${KIND_PATH[kind]}/${name}.yaml`;
}

export function kindOfDir(dir: string): ResourceKind | undefined {
  return RESOURCE_KINDS.find((k) => KIND_PATH[k] === dir);
}

export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, p) => {
    if (typeof p === 'number') return `${out}[${p}]`;
    return out === '' ? String(p) : `${out}.${String(p)}`;
  }, '');
}

export function issueProblems(file: string, issues: readonly z.core.$ZodIssue[]): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ file, field: fieldPath([...issue.path, key]), message: 'unknown field' }));
    }
    return [{ file, field: fieldPath(issue.path), message: issue.message }];
  });
}

export type Normalised = { ok: true; body: Body } | { ok: false; issues: readonly z.core.$ZodIssue[] };

/**
 * A body as the server stores it: parsed by the kind's schema (defaults filled in, object keys in the
 * schema's order). Both sides of a comparison and every written file go through this.
 */
export function normaliseBody(kind: ResourceKind, body: unknown): Normalised {
  // zod builds records by assignment, so an own "__proto__" key (legal in JSON and YAML, a prop default
  // may be named so) would set the prototype and vanish: it passes the schema under another name.
  const parsed = BODY_SCHEMAS[kind].safeParse(renameKeys(body, PROTO, PROTO_STANDIN));
  return parsed.success
    ? { ok: true, body: renameKeys(parsed.data, PROTO_STANDIN, PROTO) as Body }
    : { ok: false, issues: parsed.error.issues.map((i) => ({ ...i, path: i.path.map((p) => (p === PROTO_STANDIN ? PROTO : p)) })) };
}

const PROTO = '__proto__';
/** A key no one writes (U+10FFFF is a Unicode noncharacter), standing in for "__proto__" while zod parses. */
const PROTO_STANDIN = '\u{10FFFF}proto\u{10FFFF}';

/** A copy with every own key `from` renamed `to` (built with own properties, never by assignment). */
function renameKeys(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map((v) => renameKeys(v, from, to));
  if (typeof value !== 'object' || value === null) return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value; // FileRef and the like
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k === from ? to : k, renameKeys(v, from, to)]));
}

/** The value with object keys sorted at every level: two values are equal when their canonical JSON is. */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** Equal after normalising both (key order and defaults do not count). */
export function sameBody(kind: ResourceKind, a: unknown, b: unknown): boolean {
  const na = normaliseBody(kind, a);
  const nb = normaliseBody(kind, b);
  const left = na.ok ? na.body : a;
  const right = nb.ok ? nb.body : b;
  return JSON.stringify(canonical(left)) === JSON.stringify(canonical(right));
}

/** The file's text. Multi-line strings become literal block scalars (`|`) so that diffs read well. */
export function toYaml(doc: ResourceDoc): string {
  const n = normaliseBody(doc.kind, doc.body);
  // A stored body the current schema refuses is still written as it is, so that it can be fixed in the file.
  const body = n.ok ? n.body : doc.body;
  const clash = META_KEYS.find((k) => k in body);
  if (clash) throw new Error(`${doc.kind} ${doc.name}: the body has a field "${clash}", which the file format reserves`);
  return stringify({ name: doc.name, status: doc.status, ...body }, {
    lineWidth: 0, blockQuote: 'literal', indent: 2, aliasDuplicateObjects: false,
  });
}

/** `!file path` in a file, before the path is read. */
export class FileRef {
  constructor(readonly path: string) {}
}

const fileTag: ScalarTag = {
  tag: '!file',
  identify: (v) => v instanceof FileRef,
  resolve: (value) => new FileRef(value),
};

export interface ParsedYaml {
  /** The parsed value; `!file` strings are FileRef until resolved. */
  value: unknown;
  problems: Problem[];
}

/** Parses YAML text; syntax errors, warnings (unknown tags) and a non-mapping top level are problems. */
export function parseYaml(file: string, text: string): ParsedYaml {
  const doc = parseDocument(text, { customTags: [fileTag], prettyErrors: true, uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings].map((e) => ({ file, field: '', message: (e.message.split('\n')[0] ?? e.message).replace(/:$/, '') }));
  if (problems.length > 0) return { value: undefined, problems };
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { value: undefined, problems: [{ file, field: '', message: 'must be a YAML mapping (name, status and the body\'s fields)' }] };
  }
  return { value, problems: [] };
}

/** Replaces every FileRef with `read(ref, field)`; reads that fail return a problem instead. */
export async function resolveFileRefs(
  value: unknown, read: (ref: FileRef, field: string) => Promise<string | Problem>, path: PropertyKey[] = [],
): Promise<{ value: unknown; problems: Problem[] }> {
  if (value instanceof FileRef) {
    const got = await read(value, fieldPath(path));
    return typeof got === 'string' ? { value: got, problems: [] } : { value: undefined, problems: [got] };
  }
  if (Array.isArray(value)) {
    const items = await Promise.all(value.map((v, i) => resolveFileRefs(v, read, [...path, i])));
    return { value: items.map((i) => i.value), problems: items.flatMap((i) => i.problems) };
  }
  if (typeof value === 'object' && value !== null) {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveFileRefs(v, read, [...path, k])] as const));
    return {
      value: Object.fromEntries(entries.map(([k, r]) => [k, r.value])),
      problems: entries.flatMap(([, r]) => r.problems),
    };
  }
  return { value, problems: [] };
}

/**
 * Checks a parsed file (FileRefs resolved) of `kind` whose file name says `expectedName`: `name` must
 * equal it, `status` must be published or draft, and the rest must be a valid body.
 */
export function toResource(file: string, kind: ResourceKind, expectedName: string, value: Record<string, unknown>): { doc?: ResourceDoc; problems: Problem[] } {
  const problems: Problem[] = [];
  const { name, status, ...rest } = value;
  if (name === undefined) problems.push({ file, field: 'name', message: `required (the file name: "${expectedName}")` });
  else if (name !== expectedName) problems.push({ file, field: 'name', message: `must equal the file name "${expectedName}" (got ${JSON.stringify(name)})` });
  if (status === undefined) problems.push({ file, field: 'status', message: 'required: published or draft' });
  else if (!STATUSES.includes(status as Status)) problems.push({ file, field: 'status', message: `must be published or draft (got ${JSON.stringify(status)})` });
  const n = normaliseBody(kind, rest);
  if (!n.ok) problems.push(...issueProblems(file, n.issues));
  // PostgreSQL jsonb cannot hold NUL characters; the server would refuse the body half-way through apply.
  else if (JSON.stringify(n.body).includes('\\u0000')) problems.push({ file, field: '', message: 'must not contain NUL characters' });
  if (problems.length > 0 || !n.ok) return { problems };
  return { doc: { kind, name: expectedName, status: status as Status, body: n.body }, problems };
}
