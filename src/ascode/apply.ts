// `tandem apply DIR`: validate every file, plan against the server, print the plan, then carry it out.
import { RESOURCE_KINDS, type ResourceKind } from '../modules/content/index.ts';
import { mapLimit, type ContentClient, type RemoteSummary } from './client.ts';
import { invalidFiles, readAsCodeDir, type LocalResource } from './files.ts';
import { makePlan, type PlanEntry, type RemoteResource } from './plan.ts';
import { carryOutSegment, namesTopics, planSegments } from './segment-plan.ts';
import type { LocalSegment } from './segments.ts';

export interface ApplyOptions {
  dir: string;
  client: ContentClient;
  dryRun?: boolean;
  /** Delete server resources (and segments, when DIR has a segments/ folder) that have no file (after listing them in the plan). */
  prune?: boolean;
  /** Publish templates even when their lint has errors (the server refuses them otherwise). */
  force?: boolean;
  /** Called with the plan before anything changes (the CLI prints it). */
  onPlan?: (plan: PlanEntry[]) => void;
}

export interface ApplyResult {
  plan: PlanEntry[];
  /** False for a dry run. */
  applied: boolean;
}

/** The server's resources of every kind; the latest draft's body for those that have a file. */
export async function remoteState(client: ContentClient, wanted: (kind: RemoteSummary) => boolean): Promise<RemoteResource[]> {
  // mapLimit, not Promise.all: on a failure (a bad key) no request is left running behind the error.
  const summaries = (await mapLimit(RESOURCE_KINDS, 4, (k) => client.list(k))).flat();
  return mapLimit(summaries, 8, async (s): Promise<RemoteResource> => {
    const base = { id: s.id, kind: s.kind, name: s.name, draftVersion: s.draftVersion, publishedVersion: s.publishedVersion };
    return wanted(s) ? { ...base, body: (await client.get(s.kind, s.id)).draft.body } : base;
  });
}

async function carryOut(client: ContentClient, e: PlanEntry & { kind: ResourceKind }, body: Record<string, unknown> | undefined, force: boolean): Promise<void> {
  const publish = e.status === 'published';
  switch (e.action) {
    case 'create': {
      if (!body) throw new Error(`apply: no body for ${e.kind} ${e.name}`);
      const created = await client.create(e.kind, e.name, body);
      if (publish) await client.publish(e.kind, created.id, created.draftVersion, force);
      return;
    }
    case 'update': {
      if (!body || !e.id) throw new Error(`apply: no body or id for ${e.kind} ${e.name}`);
      const updated = await client.update(e.kind, e.id, body);
      if (publish) await client.publish(e.kind, e.id, updated.draftVersion, force);
      return;
    }
    case 'publish':
      // The version the plan compared, not whatever is latest by now.
      if (!e.id || e.draftVersion === undefined) throw new Error(`apply: no id for ${e.kind} ${e.name}`);
      await client.publish(e.kind, e.id, e.draftVersion, force);
      return;
    case 'delete':
      if (!e.id) throw new Error(`apply: no id for ${e.kind} ${e.name}`);
      await client.remove(e.kind, e.id);
      return;
    case 'unchanged':
    case 'untracked':
      return;
  }
}

/** Template ids and names that exist once the plan has run: the files', and the server's unless pruned. */
function templatesAfter(local: readonly LocalResource[], remote: readonly RemoteResource[], prune: boolean): Set<string> {
  const files = new Set(local.filter((l) => l.kind === 'template').map((l) => l.name));
  const kept = remote.filter((r) => r.kind === 'template' && (!prune || files.has(r.name)));
  return new Set([...files, ...kept.flatMap((r) => [r.id, r.name])]);
}

/** Creates and updates: content (layouts first), then segments (which may name templates). Deletes the other way round. */
async function makeFullPlan(client: ContentClient, local: readonly LocalResource[], segments: readonly LocalSegment[] | undefined, prune: boolean): Promise<PlanEntry[]> {
  const names = new Set(local.map((l) => `${l.kind}/${l.name}`));
  const remote = await remoteState(client, (s) => names.has(`${s.kind}/${s.name}`));
  const content = makePlan(local, remote, { prune });
  const segs = planSegments(segments, segments ? await client.segments.list() : [], {
    prune,
    templates: templatesAfter(local, remote, prune),
    templateNames: new Map(remote.filter((r) => r.kind === 'template').map((r) => [r.id, r.name])),
    topics: namesTopics(segments) ? new Set(await client.topicKeys()) : undefined,
  });
  if (segs.problems.length > 0) throw invalidFiles(segs.problems);
  const isExtra = (e: PlanEntry) => e.action === 'untracked' || e.action === 'delete';
  return [...content.filter((e) => !isExtra(e)), ...segs.changes, ...segs.extra, ...content.filter(isExtra)];
}

/**
 * Reads and validates every file first (a bad file throws ascode.invalid_file before any request that
 * changes something), plans (a segment naming a segment, template or topic that will not exist is refused
 * here, also before any change), reports the plan, and unless this is a dry run applies it in plan order.
 * A server error half-way stops there: the changes before it stay, and a second apply resumes.
 */
export async function apply(opts: ApplyOptions): Promise<ApplyResult> {
  const { resources: local, segments } = await readAsCodeDir(opts.dir);
  const plan = await makeFullPlan(opts.client, local, segments, opts.prune ?? false);
  opts.onPlan?.(plan);
  if (opts.dryRun) return { plan, applied: false };
  const bodies = new Map(local.map((l) => [`${l.kind}/${l.name}`, l.body]));
  const segmentFiles = new Map((segments ?? []).map((s) => [s.key, s]));
  for (const e of plan) {
    const kind = e.kind;
    if (kind === 'segment') await carryOutSegment(opts.client, e, segmentFiles.get(e.name));
    else await carryOut(opts.client, { ...e, kind }, bodies.get(`${kind}/${e.name}`), opts.force ?? false);
  }
  return { plan, applied: true };
}
