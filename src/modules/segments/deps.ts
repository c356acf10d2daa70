// Which changes can move a person in or out of a segment, from its definition (references resolved).
import { leaves, type Condition } from './definition.ts';
import type { Refs } from './compile.ts';
import type { SegmentDeps } from './types.ts';

export function depsOf(def: Condition, refs: Refs): SegmentDeps {
  const d: SegmentDeps = { events: [], attributes: false, consent: false, messages: false, groups: false, lists: false, segments: [] };
  const events = new Set<string>();
  const segs = new Set<string>();
  const visit = (c: Condition, seen: Set<string>) => {
    for (const l of leaves(c)) {
      switch (l.type) {
        case 'attribute': case 'reachability': d.attributes = true; if (l.type === 'reachability') d.consent = true; break;
        case 'event': events.add(l.name); break;
        case 'topic': d.consent = true; break;
        case 'message': d.messages = true; break;
        case 'group': d.groups = true; break;
        case 'segment': {
          segs.add(l.segment);
          const s = refs.segments.get(l.segment);
          if (!s) break;
          segs.add(s.id);
          if (s.kind === 'manual') d.lists = true;
          else if (s.definition && !seen.has(s.id)) visit(s.definition, new Set([...seen, s.id]));
          break;
        }
      }
    }
  };
  visit(def, new Set());
  d.events = [...events].sort();
  d.segments = [...segs].sort();
  return d;
}

/** A person new to the workspace: every segment may take them in, by what they have not done too. */
export const CREATED = 'created';
/** Everything may have changed (an alias or merge moved another profile's data in). */
export const ALL = 'all';
/** Two people merged: the survivor's every fact may have changed. */
export const MERGED = 'merged';

/** Does a change of this kind (`event:NAME`, `attributes`, …) concern a segment with these deps? */
export function concerns(deps: SegmentDeps, what: string): boolean {
  if (what.startsWith('event:')) return deps.events.includes(what.slice(6));
  switch (what) {
    case 'attributes': return deps.attributes;
    case 'consent': return deps.consent;
    case 'messages': return deps.messages;
    case 'groups': return deps.groups;
    case 'lists': return deps.lists;
    // CREATED, MERGED, ALL, and any kind unknown here: re-evaluate rather than miss a change.
    default: return true;
  }
}
