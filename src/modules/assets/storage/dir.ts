// A folder on disk: <root>/<first two hex digits>/<key>. Writes go to a temporary file in the same
// folder and are renamed into place, so a reader never sees a half-written file.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { checkKey, type BlobStore } from './store.ts';

function isMissing(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'ENOENT';
}

export function createDirStore(root: string): BlobStore {
  const dir = (key: string) => path.join(root, key.slice(0, 2));
  const file = (key: string) => path.join(dir(checkKey(key)), key);

  async function has(key: string): Promise<boolean> {
    try {
      await stat(file(key));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  return {
    kind: 'dir',
    has,
    async put(key, data) {
      if (await has(key)) return;
      await mkdir(dir(key), { recursive: true });
      const tmp = path.join(dir(key), `.tmp-${key}-${randomBytes(6).toString('hex')}`);
      try {
        await writeFile(tmp, data, { flag: 'wx' });
        await rename(tmp, file(key));
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
    async get(key) {
      try {
        return await readFile(file(key));
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    async delete(key) {
      await rm(file(key), { force: true });
    },
  };
}
