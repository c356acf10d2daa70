// Warnings from the event catalog: a segment that depends on an event or property that has stopped
// arriving (not seen for STALE_DAYS), was never seen, or changed type (a number now sent as a string).
import { leaves, PERSON_FIELDS, type Condition } from './definition.ts';

/** The part of the event catalog segments read (src/modules/catalog). */
export interface CatalogReader {
  list(ws: string, filter?: { type?: string; name?: string }): Promise<Array<{
    type: string; name: string; lastSeen: Date;
    properties: Array<{ path: string; type: string; seenTypes: string[]; lastSeen: Date }>;
    typeChanges: Array<{ path: string; from: string; to: string; changedAt: Date }>;
  }>>;
}

export interface SegmentWarning {
  code: 'event_never_seen' | 'event_stale' | 'property_never_seen' | 'property_stale' | 'property_type_changed';
  /** The event name ("identify" for person attributes). */
  event: string;
  path?: string;
  message: string;
}

export const STALE_DAYS = 7;
const DAY = 86_400_000;

export async function warningsFor(catalog: CatalogReader, ws: string, def: Condition, now: Date): Promise<SegmentWarning[]> {
  const wanted = new Map<string, Set<string>>(); // catalog key "type\0name" -> property paths
  const want = (type: string, name: string, path?: string) => {
    const k = `${type}\0${name}`;
    const s = wanted.get(k) ?? new Set<string>();
    if (path) s.add(path);
    wanted.set(k, s);
  };
  for (const l of leaves(def)) {
    if (l.type === 'event') {
      want('track', l.name);
      for (const w of l.where ?? []) want('track', l.name, w.path);
    }
    if (l.type === 'attribute' && !(PERSON_FIELDS as readonly string[]).includes(l.path)) want('identify', 'identify', l.path);
  }
  if (wanted.size === 0) return [];
  const all = await catalog.list(ws);
  const out: SegmentWarning[] = [];
  const ago = (d: Date) => Math.floor((now.getTime() - d.getTime()) / DAY);
  for (const [k, paths] of wanted) {
    const [type, name] = k.split('\0') as [string, string];
    const label = type === 'identify' ? 'person attributes (identify)' : `event "${name}"`;
    const t = all.find((x) => x.type === type && x.name === name);
    if (!t) {
      if (type === 'track') out.push({ code: 'event_never_seen', event: name, message: `No "${name}" event has ever been received.` });
      else for (const path of paths) out.push({ code: 'property_never_seen', event: name, path, message: `No person has ever been sent the attribute "${path}".` });
      continue;
    }
    if (type === 'track' && ago(t.lastSeen) >= STALE_DAYS) {
      out.push({ code: 'event_stale', event: name, message: `The event "${name}" was last received ${ago(t.lastSeen)} days ago.` });
    }
    for (const path of paths) {
      const p = t.properties.find((x) => x.path === path);
      if (!p) {
        out.push({ code: 'property_never_seen', event: name, path, message: `${label}: the property "${path}" has never been received.` });
        continue;
      }
      if (ago(p.lastSeen) >= STALE_DAYS) {
        out.push({ code: 'property_stale', event: name, path, message: `${label}: the property "${path}" was last received ${ago(p.lastSeen)} days ago.` });
      }
      const change = t.typeChanges.find((c) => c.path === path);
      if (change) {
        out.push({ code: 'property_type_changed', event: name, path, message: `${label}: the property "${path}" changed type from ${change.from} to ${change.to} on ${change.changedAt.toISOString().slice(0, 10)}.` });
      }
    }
  }
  return out;
}
