// `tandem pull DIR`: write every resource's latest draft as DIR/<kind>/<name>.yaml, and every segment as
// DIR/segments/<key>.yaml.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.ts';
import { KIND_PATH, RESOURCE_KINDS } from '../modules/content/index.ts';
import { mapLimit, type ContentClient } from './client.ts';
import { isResourceName, localNames } from './files.ts';
import { toYaml, type AsCodeKind } from './format.ts';
import { isSegmentKey, SEGMENT_DIR, toSegmentYaml } from './segments.ts';

export type PullAction = 'written' | 'unchanged' | 'local_only' | 'deleted';

export interface PullEntry {
  action: PullAction;
  kind: AsCodeKind;
  /** For a segment, its key. */
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

/** Writes `docs` into one folder (unchanged text is not rewritten), then lists or prunes the folder's other files. */
async function syncFolder(root: string, folder: string, kind: AsCodeKind, docs: ReadonlyArray<{ name: string; text: string }>, prune: boolean): Promise<PullEntry[]> {
  const out: PullEntry[] = [];
  await mkdir(path.join(root, folder), { recursive: true });
  for (const d of [...docs].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const file = `${folder}/${d.name}.yaml`;
    const abs = path.join(root, file);
    const same = (await currentText(abs)) === d.text;
    if (!same) await writeFile(abs, d.text, 'utf8');
    out.push({ action: same ? 'unchanged' : 'written', kind, name: d.name, file });
  }
  const onServer = new Set(docs.map((d) => d.name));
  for (const name of await localNames(root, folder)) {
    if (onServer.has(name)) continue;
    const file = `${folder}/${name}.yaml`;
    if (prune) await rm(path.join(root, file));
    out.push({ action: prune ? 'deleted' : 'local_only', kind, name, file });
  }
  return out;
}

/**
 * Writes each resource's latest draft with `status: published` when that draft is the published
 * version, else `status: draft`, and each segment (a manual list without its members; segments and
 * templates named by id are written by key and name). Files whose text is already right are not
 * rewritten. Creates DIR and all five folders.
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
  const segments = await opts.client.segments.list();
  const oddKey = segments.find((s) => !isSegmentKey(s.key));
  if (oddKey) throw new AppError('ascode.remote_error', `the server sent a segment keyed ${JSON.stringify(oddKey.key)}, which is not a segment key`);
  const docs = await mapLimit(summaries, 8, async (r) => {
    const d = await opts.client.get(r.kind, r.id);
    const status = d.publishedVersion === d.draftVersion ? 'published' as const : 'draft' as const;
    return { kind: r.kind, name: r.name, text: toYaml({ kind: r.kind, name: r.name, status, body: d.draft.body }) };
  });
  const names = {
    segments: new Map(segments.map((s) => [s.id, s.key])),
    templates: new Map(summaries.filter((r) => r.kind === 'template').map((r) => [r.id, r.name])),
  };
  const segmentDocs = segments.map((s) => ({ name: s.key, text: toSegmentYaml(s, names) }));

  const prune = opts.prune ?? false;
  const out: PullEntry[] = [];
  for (const kind of RESOURCE_KINDS) out.push(...await syncFolder(root, KIND_PATH[kind], kind, docs.filter((d) => d.kind === kind), prune));
  out.push(...await syncFolder(root, SEGMENT_DIR, 'segment', segmentDocs, prune));
  return out;
}
