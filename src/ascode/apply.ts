// `tandem apply DIR`: validate every file, plan against the server, print the plan, then carry it out.
import { RESOURCE_KINDS } from '../modules/content/index.ts';
import { mapLimit, type ContentClient, type RemoteSummary } from './client.ts';
import { readResourceDir } from './files.ts';
import { makePlan, type PlanEntry, type RemoteResource } from './plan.ts';

export interface ApplyOptions {
  dir: string;
  client: ContentClient;
  dryRun?: boolean;
  /** Delete server resources that have no file (after listing them in the plan). */
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

async function carryOut(client: ContentClient, e: PlanEntry, body: Record<string, unknown> | undefined, force: boolean): Promise<void> {
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

/**
 * Reads and validates every file first (a bad file throws ascode.invalid_file before any request that
 * changes something), plans, reports the plan, and unless this is a dry run applies it in plan order.
 * A server error half-way stops there: the changes before it stay, and a second apply resumes.
 */
export async function apply(opts: ApplyOptions): Promise<ApplyResult> {
  const local = await readResourceDir(opts.dir);
  const names = new Set(local.map((l) => `${l.kind}/${l.name}`));
  const remote = await remoteState(opts.client, (s) => names.has(`${s.kind}/${s.name}`));
  const plan = makePlan(local, remote, { prune: opts.prune ?? false });
  opts.onPlan?.(plan);
  if (opts.dryRun) return { plan, applied: false };
  const bodies = new Map(local.map((l) => [`${l.kind}/${l.name}`, l.body]));
  for (const e of plan) await carryOut(opts.client, e, bodies.get(`${e.kind}/${e.name}`), opts.force ?? false);
  return { plan, applied: true };
}
