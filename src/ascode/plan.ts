// What apply will do to each resource: compare the files with the server's latest drafts. Segments are
// planned by segment-plan.ts into the same entries.
import type { ResourceKind } from '../modules/content/index.ts';
import type { LocalResource } from './files.ts';
import { APPLY_ORDER, resourceFile, sameBody, type AsCodeKind, type Body, type Status } from './format.ts';
import type { SegmentKind } from './segments.ts';

export type Action = 'create' | 'update' | 'publish' | 'unchanged' | 'untracked' | 'delete';

export interface PlanEntry {
  /** Segments are never `publish`. */
  action: Action;
  kind: AsCodeKind;
  /** For a segment, its key. */
  name: string;
  /** The file's status; absent for resources without a file (untracked, delete) and for segments. */
  status?: Status;
  /** The file, relative to the directory (for untracked and delete: the file that would hold it). */
  file?: string;
  /** The server's id and versions before apply; absent for create. */
  id?: string;
  draftVersion?: number;
  publishedVersion?: number | null;
  /** Segments: dynamic or manual (the file's; the server's for untracked and delete). */
  segmentKind?: SegmentKind;
  /** Segments: the server's version before apply; absent for create. */
  version?: number;
}

export interface RemoteResource {
  id: string;
  kind: ResourceKind;
  name: string;
  draftVersion: number;
  publishedVersion: number | null;
  /** The latest draft's body; needed only for resources that have a file. */
  body?: Body;
}

/**
 * Per file: create (not on the server), update (body differs from the latest draft), publish (same
 * body, status published, the draft is not the published version), else unchanged. Server resources
 * without a file are untracked, or delete with `prune`. Creates and updates come in APPLY_ORDER, by
 * name; untracked and deletes last, in reverse order (templates before the layouts they name).
 */
export function makePlan(local: readonly LocalResource[], remote: readonly RemoteResource[], opts: { prune?: boolean } = {}): PlanEntry[] {
  const key = (kind: ResourceKind, name: string) => `${kind}\u0000${name}`;
  const remoteByKey = new Map(remote.map((r) => [key(r.kind, r.name), r]));
  const localKeys = new Set(local.map((l) => key(l.kind, l.name)));
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

  const changes = APPLY_ORDER.flatMap((kind) => local.filter((l) => l.kind === kind).sort(byName).map((l): PlanEntry => {
    const r = remoteByKey.get(key(kind, l.name));
    const entry = { kind, name: l.name, status: l.status, file: l.file };
    if (!r) return { action: 'create', ...entry };
    const at = { id: r.id, draftVersion: r.draftVersion, publishedVersion: r.publishedVersion };
    if (r.body === undefined) throw new Error(`plan: no body fetched for ${kind} ${r.name}`);
    if (!sameBody(kind, l.body, r.body)) return { action: 'update', ...entry, ...at };
    if (l.status === 'published' && r.publishedVersion !== r.draftVersion) return { action: 'publish', ...entry, ...at };
    return { action: 'unchanged', ...entry, ...at };
  }));

  const extra = [...APPLY_ORDER].reverse().flatMap((kind) => remote
    .filter((r) => r.kind === kind && !localKeys.has(key(kind, r.name))).sort(byName)
    .map((r): PlanEntry => ({
      action: opts.prune ? 'delete' : 'untracked', kind, name: r.name, file: resourceFile(kind, r.name),
      id: r.id, draftVersion: r.draftVersion, publishedVersion: r.publishedVersion,
    })));
  return [...changes, ...extra];
}

export function countActions(plan: readonly PlanEntry[]): Record<Action, number> {
  const counts: Record<Action, number> = { create: 0, update: 0, publish: 0, unchanged: 0, untracked: 0, delete: 0 };
  for (const e of plan) counts[e.action]++;
  return counts;
}

/** True when applying the plan would change nothing on the server. */
export function isNoop(plan: readonly PlanEntry[]): boolean {
  return plan.every((e) => e.action === 'unchanged' || e.action === 'untracked');
}
