// Operating-system helpers for the embedded PostgreSQL (src/db/embedded.ts): whether a process is
// still running, the per-data-dir lock, and a cheap copy of the PostgreSQL binaries.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, link, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A zombie (exited, not yet reaped: common when pid 1 of a container reaps lazily) counts as dead. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return !existsSync('/proc/self/stat'); // no /proc (macOS): trust kill(0); with /proc: it just exited
  }
}

/** Field 22 of /proc/<pid>/stat; undefined where /proc does not exist. */
export async function startTime(pid: number): Promise<string | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** False only when we can see that the pid belongs to something other than a postgres binary. */
export async function isPostgres(pid: number): Promise<boolean> {
  try {
    const argv0 = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')[0] ?? '';
    return path.basename(argv0) === 'postgres';
  } catch {
    return true;
  }
}

/**
 * On Linux, an abstract-namespace socket named after the data dir: the kernel frees it when its holder
 * exits, even on kill -9, so the lock is never stale. Elsewhere, an exclusive file holding our pid.
 */
async function tryLock(dataDir: string): Promise<(() => Promise<void>) | undefined> {
  if (os.platform() === 'linux') {
    const name = `\0tandem-pg-${createHash('sha256').update(dataDir).digest('hex').slice(0, 40)}`;
    const server = net.createServer();
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(undefined) : reject(err)));
      server.listen({ path: name }, () => {
        server.unref();
        resolve(() => new Promise<void>((r) => server.close(() => r())));
      });
    });
  }
  const file = path.join(dataDir, 'pg.lock');
  try {
    await writeFile(file, String(process.pid), { flag: 'wx' });
    return () => rm(file, { force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const holder = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
    // Two processes breaking the same stale lock at once could both win; rare enough off Linux.
    if (Number.isFinite(holder) && !alive(holder)) await rm(file, { force: true });
    return undefined;
  }
}

export async function lockDataDir(dataDir: string, timeoutMs: number): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const release = await tryLock(dataDir);
    if (release) return release;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for another Tandem process to start or stop the embedded PostgreSQL in ${dataDir}`);
    await sleep(25 + Math.random() * 50);
  }
}

/** Hard links where possible (instant, no disk), a copy across file systems. Symlinks are kept as they are. */
export async function linkOrCopyTree(src: string, dst: string): Promise<void> {
  try {
    await linkTree(src, dst);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM') throw err;
    await rm(dst, { recursive: true, force: true });
    await cp(src, dst, { recursive: true, verbatimSymlinks: true });
  }
}

async function linkTree(src: string, dst: string): Promise<void> {
  await mkdir(dst, { recursive: true });
  for (const entry of await readdir(src, { withFileTypes: true })) {
    const from = path.join(src, entry.name);
    const to = path.join(dst, entry.name);
    if (entry.isDirectory()) await linkTree(from, to);
    else if (entry.isSymbolicLink()) await symlink(await readlink(from), to);
    else await link(from, to);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
