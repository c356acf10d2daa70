// Reading a resource directory: DIR/{layouts,components,snippets,templates}/<name>.yaml and
// DIR/segments/<key>.yaml.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.ts';
import { KIND_PATH, RESOURCE_KINDS, resourceName, type ResourceKind } from '../modules/content/index.ts';
import {
  parseYaml, problemLine, resolveFileRefs, resourceFile, toResource,
  type FileRef, type Problem, type ResourceDoc,
} from './format.ts';
import { isSegmentKey, SEGMENT_DIR, segmentFile, toSegment, type LocalSegment } from './segments.ts';

export interface LocalResource extends ResourceDoc {
  /** Relative to the directory, `/`-separated: `templates/welcome.yaml`. */
  file: string;
}

/** File names follow the server's rule for resource names. */
export function isResourceName(name: string): boolean {
  return resourceName.safeParse(name).success;
}

/** A file that `!file` names may be at most this large (the server's limit for one source string). */
const MAX_REF_BYTES = 500_000;

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}

function inside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}

/** ascode.invalid_file listing every problem, one line each; its field names the first. */
export function invalidFiles(problems: readonly Problem[]): AppError {
  const first = problems[0];
  return new AppError('ascode.invalid_file', problems.map(problemLine).join('\n'), {
    field: first && (first.field === '' ? first.file : `${first.file}: ${first.field}`), problems,
  });
}

/** Throws ascode.bad_directory unless `dir` is an existing directory. */
export async function requireDirectory(dir: string): Promise<void> {
  const s = await stat(dir).catch((err: unknown) => {
    if (isNotFound(err)) throw new AppError('ascode.bad_directory', `${dir}: no such directory`);
    throw err;
  });
  if (!s.isDirectory()) throw new AppError('ascode.bad_directory', `${dir}: not a directory`);
}

/** The files of one folder (`templates`, `segments`), sorted, or undefined when the folder does not exist. */
async function folderEntries(dir: string, folder: string): Promise<string[] | undefined> {
  const entries = await readdir(path.join(dir, folder), { withFileTypes: true }).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  return entries?.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name).sort();
}

/** Reads `!file` bodies: relative to the YAML file, and never outside the directory (symlinks included). */
function refReader(root: string, rootReal: string, file: string) {
  const base = path.dirname(path.join(root, file));
  return async (ref: FileRef, field: string): Promise<string | Problem> => {
    const problem = (message: string): Problem => ({ file, field, message: `!file ${ref.path}: ${message}` });
    if (ref.path === '' || path.isAbsolute(ref.path)) return problem('must be a path relative to the file');
    const target = path.resolve(base, ref.path);
    if (!inside(root, target)) return problem('points outside the directory');
    let real: string;
    try {
      real = await realpath(target);
    } catch (err) {
      if (isNotFound(err)) return problem('no such file');
      throw err;
    }
    if (!inside(rootReal, real)) return problem('points outside the directory');
    const s = await stat(real);
    if (!s.isFile()) return problem('not a file');
    if (s.size > MAX_REF_BYTES) return problem(`larger than ${MAX_REF_BYTES} bytes`);
    return readFile(real, 'utf8');
  };
}

/** One file parsed, with its `!file` references read. */
async function readYaml(root: string, rootReal: string, file: string): Promise<{ value?: Record<string, unknown>; problems: Problem[] }> {
  const parsed = parseYaml(file, await readFile(path.join(root, file), 'utf8'));
  if (parsed.problems.length > 0) return { problems: parsed.problems };
  const resolved = await resolveFileRefs(parsed.value, refReader(root, rootReal, file));
  if (resolved.problems.length > 0) return { problems: resolved.problems };
  return { value: resolved.value as Record<string, unknown>, problems: [] };
}

async function readOne(root: string, rootReal: string, kind: ResourceKind, entry: string): Promise<{ doc?: LocalResource; problems: Problem[] }> {
  const name = entry.slice(0, -'.yaml'.length);
  const file = resourceFile(kind, name);
  if (!isResourceName(name)) {
    return { problems: [{ file, field: '', message: 'the file name must be a resource name: letters, digits, "_", "." and "-", starting with a letter or digit, at most 100' }] };
  }
  const read = await readYaml(root, rootReal, file);
  if (!read.value) return { problems: read.problems };
  const checked = toResource(file, kind, name, read.value);
  return checked.doc ? { doc: { ...checked.doc, file }, problems: [] } : { problems: checked.problems };
}

async function readSegment(root: string, rootReal: string, entry: string): Promise<{ doc?: LocalSegment; problems: Problem[] }> {
  const key = entry.slice(0, -'.yaml'.length);
  const file = segmentFile(key);
  if (!isSegmentKey(key)) {
    return { problems: [{ file, field: '', message: 'the file name must be a segment key: lower-case letters, digits, "_" and "-", starting with a letter or digit, at most 100' }] };
  }
  const read = await readYaml(root, rootReal, file);
  return read.value ? toSegment(file, key, read.value) : { problems: read.problems };
}

/** `.yaml` files are resources; `.yml` ones are refused (never silently ignored, and then pruned); others are `!file` bodies. */
async function eachYaml(root: string, folder: string, problems: Problem[], read: (entry: string) => Promise<{ problems: Problem[] }>): Promise<boolean> {
  const entries = await folderEntries(root, folder);
  if (entries === undefined) return false;
  for (const entry of entries) {
    if (entry.endsWith('.yml')) problems.push({ file: `${folder}/${entry}`, field: '', message: 'resource files end in .yaml' });
    else if (entry.endsWith('.yaml')) problems.push(...(await read(entry)).problems);
  }
  return true;
}

export interface AsCodeDir {
  resources: LocalResource[];
  /** Undefined when DIR has no segments/ folder: then apply leaves the workspace's segments alone. */
  segments: LocalSegment[] | undefined;
}

/**
 * Every resource and segment file in `dir`, validated. Throws ascode.invalid_file listing every problem
 * of every file (nothing is half-read), and ascode.bad_directory when `dir` holds none of the folders.
 */
export async function readAsCodeDir(dir: string): Promise<AsCodeDir> {
  await requireDirectory(dir);
  const root = path.resolve(dir);
  const rootReal = await realpath(root);
  const resources: LocalResource[] = [];
  const segments: LocalSegment[] = [];
  const problems: Problem[] = [];
  let folders = 0;
  for (const kind of RESOURCE_KINDS) {
    const found = await eachYaml(root, KIND_PATH[kind], problems, async (entry) => {
      const got = await readOne(root, rootReal, kind, entry);
      if (got.doc) resources.push(got.doc);
      return got;
    });
    if (found) folders++;
  }
  const hasSegments = await eachYaml(root, SEGMENT_DIR, problems, async (entry) => {
    const got = await readSegment(root, rootReal, entry);
    if (got.doc) segments.push(got.doc);
    return got;
  });
  if (folders === 0 && !hasSegments) {
    throw new AppError('ascode.bad_directory', `${dir}: none of ${[...RESOURCE_KINDS.map((k) => KIND_PATH[k]), SEGMENT_DIR].map((f) => `${f}/`).join(', ')} is there`);
  }
  if (problems.length > 0) throw invalidFiles(problems);
  return { resources, segments: hasSegments ? segments : undefined };
}

/** The names of the `.yaml` files in one folder (`templates`, `segments`). */
export async function localNames(dir: string, folder: string): Promise<string[]> {
  return ((await folderEntries(dir, folder)) ?? []).filter((e) => e.endsWith('.yaml')).map((e) => e.slice(0, -'.yaml'.length));
}
