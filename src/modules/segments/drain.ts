// Which dirty people each segment re-evaluates in a drain batch. A dirty row says what changed for a
// person (`event:NAME`, `attributes`, `created`, …); a row scoped to one segment (`segment:ID` among its
// kinds) was put back by a drain that found that segment busy (a build or a tick holding its lock) and
// concerns that segment only.
import { concerns } from './deps.ts';
import type { Segment } from './types.ts';

const SCOPE = 'segment:';

/** Kinds for a row that concerns one segment only, with the kinds that made it dirty (kept for the reason). */
export function scopedTo(segmentId: string, kinds: Iterable<string>): string[] {
  return [`${SCOPE}${segmentId}`, ...[...kinds].filter((k) => !k.startsWith(SCOPE))];
}

interface PersonWork {
  /** Kinds that concern every segment whose deps they touch. */
  any: Set<string>;
  /** Kinds that concern one segment only. */
  only: Map<string, Set<string>>;
}

export type DirtyPeople = Map<string, Map<string, PersonWork>>; // workspace -> person -> work

export function groupDirty(rows: Array<{ workspace_id: string; person_id: string; what: string[] }>): DirtyPeople {
  const byWs: DirtyPeople = new Map();
  for (const r of rows) {
    const people = byWs.get(r.workspace_id) ?? new Map<string, PersonWork>();
    byWs.set(r.workspace_id, people);
    const work = people.get(r.person_id) ?? { any: new Set<string>(), only: new Map<string, Set<string>>() };
    people.set(r.person_id, work);
    const scope = r.what.find((w) => w.startsWith(SCOPE));
    if (scope === undefined) {
      for (const w of r.what) work.any.add(w);
      continue;
    }
    const id = scope.slice(SCOPE.length);
    const set = work.only.get(id) ?? new Set<string>();
    for (const w of r.what) if (!w.startsWith(SCOPE)) set.add(w);
    work.only.set(id, set);
  }
  return byWs;
}

/** The people of a batch this segment must re-evaluate, and why (the `reason` of the changes it records). */
export function pick(people: Map<string, PersonWork>, s: Segment): { ids: string[]; kinds: Map<string, string[]>; reason: string } {
  const ids: string[] = [];
  const kinds = new Map<string, string[]>();
  const reasons = new Set<string>();
  for (const [pid, work] of people) {
    const hit = [...work.any].filter((w) => concerns(s.deps, w));
    for (const w of work.only.get(s.id) ?? []) if (!hit.includes(w)) hit.push(w);
    if (hit.length === 0) continue;
    ids.push(pid);
    kinds.set(pid, hit);
    for (const w of hit) reasons.add(w.startsWith('event:') ? 'event' : w);
  }
  return { ids, kinds, reason: [...reasons].sort().join(',') };
}
