// Whether dist/ (scripts/build.mjs) may run instead of the TypeScript sources: only if it is complete
// and no file or folder under src/ changed since the build started. A folder's mtime changes when a
// file in it is added, removed or renamed, so deletions count too. About 250 stat calls: a few ms.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const STAMP = '.build-stamp.json';

function newestMtime(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** True when `distDir` holds a complete build of `srcDir` that no source change has made stale. */
export function isFresh(srcDir, distDir) {
  let started;
  try {
    started = JSON.parse(readFileSync(path.join(distDir, STAMP), 'utf8')).started;
  } catch {
    return false;
  }
  return typeof started === 'number' && newestMtime(srcDir) < started;
}
