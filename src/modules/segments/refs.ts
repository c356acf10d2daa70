// Looks up what a definition refers to (segments, inlined recursively; topics; templates) and refuses
// unknown names, cycles and definitions too large to evaluate.
import { AppError } from '../../errors.ts';
import type { Queryable } from '../../db/pool.ts';
import { depthOf, leaves, MAX_CONDITIONS, MAX_DEPTH, type Condition } from './definition.ts';
import type { Refs } from './compile.ts';
import type { SegmentsRepo } from './repo.ts';

/** Where each leaf sits in the definition, for error fields: "definition.conditions[1].segment". */
function leafPaths(c: Condition, at = 'definition'): Array<{ path: string; leaf: Condition }> {
  if (c.type === 'and' || c.type === 'or') return c.conditions.flatMap((x, i) => leafPaths(x, `${at}.conditions[${i}]`));
  if (c.type === 'not') return leafPaths(c.condition, `${at}.condition`);
  return [{ path: at, leaf: c }];
}

export async function resolveRefs(db: Queryable, repo: SegmentsRepo, ws: string, def: Condition, self?: { id: string; key: string }): Promise<Refs> {
  const refs: Refs = { segments: new Map(), topics: new Map(), templates: new Map() };
  let total = 0;
  const check = (c: Condition) => {
    total += leaves(c).length;
    if (depthOf(c) > MAX_DEPTH || total > MAX_CONDITIONS) {
      throw new AppError('segment.too_complex', `Definitions may nest ${MAX_DEPTH} deep and hold ${MAX_CONDITIONS} conditions (referenced segments included).`, { field: 'definition' });
    }
  };
  check(def);

  // Segments, breadth first, each definition inlined where it is referenced.
  const topicKeys = new Set<string>();
  const templateRefs = new Set<string>();
  const collect = (c: Condition, top: boolean) => {
    for (const { path, leaf } of leafPaths(c)) {
      if (leaf.type === 'topic') topicKeys.add(leaf.topic);
      if (leaf.type === 'message' && leaf.template !== undefined) templateRefs.add(leaf.template);
      if (leaf.type === 'segment' && top && self && (leaf.segment === self.id || leaf.segment === self.key)) {
        throw new AppError('segment.cycle', 'A segment cannot refer to itself.', { field: `${path}.segment` });
      }
    }
  };
  collect(def, true);
  const topPaths = new Map(leafPaths(def).flatMap(({ path, leaf }) => (leaf.type === 'segment' ? [[leaf.segment, `${path}.segment`] as const] : [])));
  let frontier = [...new Set(leaves(def).flatMap((l) => (l.type === 'segment' ? [l.segment] : [])))];
  while (frontier.length > 0) {
    const found = await repo.findMany(db, ws, frontier);
    const next: string[] = [];
    for (const ref of frontier) {
      const s = found.find((x) => x.id === ref) ?? found.find((x) => x.key === ref);
      if (!s) {
        throw new AppError('segment.unknown_reference', `No segment "${ref}" in this workspace.`, { field: topPaths.get(ref) ?? 'definition' });
      }
      if (self && s.id === self.id) throw new AppError('segment.cycle', `Segment "${ref}" refers back to this one.`, { field: topPaths.get(ref) ?? 'definition' });
      refs.segments.set(ref, { id: s.id, kind: s.kind, definition: s.definition });
      if (s.definition) {
        check(s.definition);
        collect(s.definition, false);
        for (const l of leaves(s.definition)) if (l.type === 'segment' && !refs.segments.has(l.segment)) next.push(l.segment);
      }
    }
    frontier = [...new Set(next)];
  }
  // A cycle among referenced segments (a -> b -> a) would inline forever: refuse it.
  const visiting = new Set<string>();
  const walk = (id: string) => {
    if (visiting.has(id)) throw new AppError('segment.cycle', undefined, { field: 'definition' });
    visiting.add(id);
    const s = [...refs.segments.values()].find((x) => x.id === id);
    for (const l of s?.definition ? leaves(s.definition) : []) if (l.type === 'segment') walk(refs.segments.get(l.segment)!.id);
    visiting.delete(id);
  };
  for (const s of refs.segments.values()) walk(s.id);

  for (const t of await repo.topicsByKey(db, ws, [...topicKeys])) refs.topics.set(t.key, { id: t.id, default: t.default_state });
  for (const key of topicKeys) {
    if (!refs.topics.has(key)) throw new AppError('segment.unknown_reference', `No topic "${key}" in this workspace.`, { field: fieldOf(def, (l) => l.type === 'topic' && l.topic === key) });
  }
  const templates = await repo.templatesByRef(db, ws, [...templateRefs]);
  for (const ref of templateRefs) {
    const t = templates.find((x) => x.id === ref) ?? templates.find((x) => x.name === ref);
    if (!t) throw new AppError('segment.unknown_reference', `No template "${ref}" in this workspace.`, { field: fieldOf(def, (l) => l.type === 'message' && l.template === ref) });
    refs.templates.set(ref, t.id);
  }
  return refs;
}

function fieldOf(def: Condition, match: (l: Condition) => boolean): string {
  return leafPaths(def).find((x) => match(x.leaf))?.path ?? 'definition';
}
