// What apply does to segments: compare segments/<key>.yaml with the server, check what the definitions
// refer to before anything changes, and order the work so that a segment is written after the segments
// it names and deleted before them.
import { AppError, isAppError } from '../errors.ts';
import type { ContentClient, RemoteSegmentView, SegmentBody } from './client.ts';
import type { Problem } from './format.ts';
import type { PlanEntry } from './plan.ts';
import { leafPaths, normaliseDefinition, portable, sameSegment, segmentFile, type LocalSegment, type RefNames } from './segments.ts';

export interface SegmentContext {
  prune: boolean;
  /** Template ids and names a definition may name: those that exist after apply (files, and the server's unless pruned). */
  templates: ReadonlySet<string>;
  /** The server's template ids -> names (files name templates by name). */
  templateNames: ReadonlyMap<string, string>;
  /** The workspace's topic keys; undefined when no definition names a topic (then not fetched). */
  topics: ReadonlySet<string> | undefined;
}

/**
 * `keys` ordered so that each comes after the ones `before(key)` names (ties by key). Keys left in a cycle
 * are returned in `stuck`.
 */
function topoOrder(keys: readonly string[], before: (key: string) => Iterable<string>): { order: string[]; stuck: string[] } {
  const set = new Set(keys);
  const waiting = new Map(keys.map((k) => [k, new Set([...before(k)].filter((d) => set.has(d) && d !== k))]));
  const order: string[] = [];
  for (;;) {
    const ready = [...waiting].filter(([, deps]) => deps.size === 0).map(([k]) => k).sort();
    if (ready.length === 0) break;
    for (const k of ready) {
      order.push(k);
      waiting.delete(k);
    }
    for (const deps of waiting.values()) for (const k of ready) deps.delete(k);
  }
  return { order, stuck: [...waiting.keys()].sort() };
}

/** A cycle through `start` among `edges`, as keys (`a -> b -> a`), for the message. */
function cycleFrom(start: string, edges: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const path: string[] = [];
  const seen = new Set<string>();
  const walk = (k: string): boolean => {
    if (k === start && path.length > 0) return true;
    if (seen.has(k)) return false;
    seen.add(k);
    path.push(k);
    for (const next of [...(edges.get(k) ?? [])].sort()) if (walk(next)) return true;
    path.pop();
    return false;
  };
  walk(start);
  return [...path, start];
}

/** The segment keys a stored definition names, ids mapped to keys (none when the schema no longer reads it). */
function refsOf(definition: unknown, names: RefNames): Set<string> {
  const n = definition === null || definition === undefined ? undefined : normaliseDefinition(definition);
  if (!n?.ok) return new Set();
  return new Set(leafPaths(portable(n.definition, names)).flatMap(({ leaf }) => (leaf.type === 'segment' ? [leaf.segment] : [])));
}

export interface SegmentPlan {
  /** Creates, updates and unchanged, in dependency order. */
  changes: PlanEntry[];
  /** Untracked or (with prune) deletes, each before the segments it names. */
  extra: PlanEntry[];
  problems: Problem[];
}

/**
 * Plans the files against the server's segments. `local` undefined (no segments/ folder) plans nothing:
 * the segments are not managed by this directory. Problems (a kind change, a reference to nothing, a
 * cycle among the files) are returned for apply to refuse before any change.
 */
export function planSegments(local: readonly LocalSegment[] | undefined, remote: readonly RemoteSegmentView[], ctx: SegmentContext): SegmentPlan {
  if (local === undefined) return { changes: [], extra: [], problems: [] };
  const names: RefNames = { segments: new Map(remote.map((r) => [r.id, r.key])), templates: ctx.templateNames };
  const remoteByKey = new Map(remote.map((r) => [r.key, r]));
  const localByKey = new Map(local.map((l) => [l.key, l]));
  const problems: Problem[] = [];
  const edges = new Map<string, Set<string>>();

  for (const l of local) {
    const deps = new Set<string>();
    edges.set(l.key, deps);
    const r = remoteByKey.get(l.key);
    if (r && r.kind !== l.kind) {
      problems.push({ file: l.file, field: 'kind', message: `the server's segment "${l.key}" is ${r.kind}, and a segment cannot change kind (use a new key, or delete it first)` });
    }
    for (const { field, leaf } of l.definition ? leafPaths(l.definition) : []) {
      const problem = (at: string, message: string) => problems.push({ file: l.file, field: `${field}.${at}`, message });
      if (leaf.type === 'segment') {
        const ref = names.segments.get(leaf.segment) ?? leaf.segment;
        if (ref === l.key) problem('segment', 'a segment cannot refer to itself');
        else if (localByKey.has(ref)) deps.add(ref);
        else if (remoteByKey.has(ref) && ctx.prune) problem('segment', `segment "${ref}" has no file, and --prune deletes it`);
        else if (!remoteByKey.has(ref)) problem('segment', `no segment "${ref}" in the files or on the server`);
      } else if (leaf.type === 'message' && leaf.template !== undefined && !ctx.templates.has(leaf.template)) {
        problem('template', `no template "${leaf.template}" in the files or on the server${ctx.prune ? ' (--prune deletes templates without a file)' : ''}`);
      } else if (leaf.type === 'topic' && ctx.topics && !ctx.topics.has(leaf.topic)) {
        problem('topic', `no topic "${leaf.topic}" in the workspace (topics are not part of the files: create it first)`);
      }
    }
  }

  const { order, stuck } = topoOrder([...localByKey.keys()], (k) => edges.get(k) ?? []);
  for (const k of stuck) {
    const l = localByKey.get(k);
    if (l) problems.push({ file: l.file, field: 'definition', message: `segments refer to each other in a cycle: ${cycleFrom(k, edges).join(' -> ')}` });
  }

  const changes = [...order, ...stuck].map((key): PlanEntry => {
    const l = localByKey.get(key)!;
    const r = remoteByKey.get(key);
    const entry = { kind: 'segment' as const, name: key, file: l.file, segmentKind: l.kind };
    if (!r) return { action: 'create', ...entry };
    const at = { id: r.id, version: r.version };
    return { action: sameSegment(l, r, names) ? 'unchanged' : 'update', ...entry, ...at };
  });

  // Deletes: a segment before the ones it names (the server refuses to delete a segment others name).
  const extraRemote = remote.filter((r) => !localByKey.has(r.key));
  const referrers = new Map<string, Set<string>>(extraRemote.map((r) => [r.key, new Set()]));
  for (const r of extraRemote) for (const ref of refsOf(r.definition, names)) referrers.get(ref)?.add(r.key);
  const gone = topoOrder(extraRemote.map((r) => r.key), (k) => referrers.get(k) ?? []);
  const extra = [...gone.order, ...gone.stuck].map((key): PlanEntry => {
    const r = remoteByKey.get(key)!;
    return { action: ctx.prune ? 'delete' : 'untracked', kind: 'segment', name: key, file: segmentFile(key), segmentKind: r.kind, id: r.id, version: r.version };
  });
  return { changes, extra, problems };
}

/** True when a definition in `local` names a topic (then apply fetches the workspace's topics to check it). */
export function namesTopics(local: readonly LocalSegment[] | undefined): boolean {
  return (local ?? []).some((l) => l.definition !== null && leafPaths(l.definition).some(({ leaf }) => leaf.type === 'topic'));
}

function body(l: LocalSegment): SegmentBody {
  return { key: l.key, name: l.name, description: l.description, kind: l.kind, ...(l.definition ? { definition: l.definition } : {}) };
}

/** Carries out one segment entry. A server error keeps its code and field and names the file. */
export async function carryOutSegment(client: ContentClient, e: PlanEntry, l: LocalSegment | undefined): Promise<void> {
  try {
    switch (e.action) {
      case 'create':
        if (!l) throw new Error(`apply: no file for segment ${e.name}`);
        await client.segments.create(body(l));
        return;
      case 'update':
        if (!l || !e.id) throw new Error(`apply: no file or id for segment ${e.name}`);
        await client.segments.update(e.id, body(l));
        return;
      case 'delete':
        if (!e.id) throw new Error(`apply: no id for segment ${e.name}`);
        await client.segments.remove(e.id);
        return;
      case 'publish':
      case 'unchanged':
      case 'untracked':
        return;
    }
  } catch (err) {
    if (!isAppError(err) || !e.file) throw err;
    throw new AppError(err.code, `${e.file}: ${err.message}`, { ...err.details, file: e.file });
  }
}
