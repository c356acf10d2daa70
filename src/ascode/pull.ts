// `tandem pull DIR`: write every resource's latest draft as DIR/<kind>/<name>.yaml.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.ts';
import { KIND_PATH, RESOURCE_KINDS, type ResourceKind } from '../modules/content/index.ts';
import { mapLimit, type ContentClient } from './client.ts';
import { isResourceName, localNames } from './files.ts';
import { resourceFile, toYaml } from './format.ts';

export type PullAction = 'written' | 'unchanged' | 'local_only' | 'deleted';

export interface PullEntry {
  action: PullAction;
  kind: ResourceKind;
  name: string;
  /** Relative to the directory. */
  file: string;
}

export interface PullOptions {
  dir: string;
  client: ContentClient;
  /** Delete `.yaml` files of resources the server does not have (else they are reported as local_only). */
  prune?: boolean;
}

async function currentText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Writes each resource's latest draft with `status: published` when that draft is the published
 * version, else `status: draft`. Files whose text is already right are not rewritten. Creates DIR and
 * all four folders.
 */
export async function pull(opts: PullOptions): Promise<PullEntry[]> {
  const root = path.resolve(opts.dir);
  const s = await stat(root).catch(() => undefined);
  if (s && !s.isDirectory()) throw new AppError('ascode.bad_directory', `${opts.dir}: not a directory`);
  // Everything is fetched before the first write: an unreachable server or a bad key changes no file.
  const summaries = (await mapLimit(RESOURCE_KINDS, 4, (k) => opts.client.list(k))).flat();
  // Names become file paths: never trust one that could climb out of DIR.
  const odd = summaries.find((r) => !isResourceName(r.name));
  if (odd) throw new AppError('ascode.remote_error', `the server sent a ${odd.kind} named ${JSON.stringify(odd.name)}, which is not a resource name`);
  const docs = await mapLimit(summaries, 8, async (r) => {
    const d = await opts.client.get(r.kind, r.id);
    const status = d.publishedVersion === d.draftVersion ? 'published' as const : 'draft' as const;
    return { kind: r.kind, name: r.name, text: toYaml({ kind: r.kind, name: r.name, status, body: d.draft.body }) };
  });

  const out: PullEntry[] = [];
  for (const kind of RESOURCE_KINDS) {
    await mkdir(path.join(root, KIND_PATH[kind]), { recursive: true });
    const mine = docs.filter((d) => d.kind === kind).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const d of mine) {
      const file = resourceFile(kind, d.name);
      const abs = path.join(root, file);
      const same = (await currentText(abs)) === d.text;
      if (!same) await writeFile(abs, d.text, 'utf8');
      out.push({ action: same ? 'unchanged' : 'written', kind, name: d.name, file });
    }
    const onServer = new Set(mine.map((d) => d.name));
    for (const name of await localNames(root, kind)) {
      if (onServer.has(name)) continue;
      const file = resourceFile(kind, name);
      if (opts.prune) await rm(path.join(root, file));
      out.push({ action: opts.prune ? 'deleted' : 'local_only', kind, name, file });
    }
  }
  return out;
}
