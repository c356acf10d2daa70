// The compiled CLI (scripts/build.mjs, bin/tandem.js): `tandem --help` from a build loads commander and
// the CLI's own files, never tsx or the server (its speed follows: 0.1–0.2 s of CPU, docs/operations.md);
// bin/tandem.js runs the build only while no source changed since it was made, else the sources.
// No timing is asserted: that would fail on a loaded machine; what is loaded decides the time.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFresh } from '../bin/build-state.js';
import { childEnv } from './helpers/process.ts';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tracer = path.join(root, 'test', 'helpers', 'module-trace.mjs');

let tmp: string;

beforeAll(async () => {
  // Inside the project (tmp/ is ignored): a build finds its packages in the project's node_modules.
  await mkdir(path.join(root, 'tmp'), { recursive: true });
  tmp = await mkdtemp(path.join(root, 'tmp', 'build-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Runs `node --import module-trace.mjs ARGS…` in the project directory; stdout and the modules it loaded. */
async function traced(args: string[], name: string): Promise<{ stdout: string; modules: string[] }> {
  const file = path.join(tmp, `${name}.trace`);
  const { stdout } = await run(process.execPath, ['--import', tracer, ...args], {
    cwd: root, env: childEnv({ MODULE_TRACE_FILE: file }), timeout: 60_000,
  });
  const modules = (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((u) => u.replace(`file://${root}/`, ''));
  return { stdout, modules };
}

/** What --help must not load: the TypeScript loader, the server, the database layer, any heavy package. */
function heavy(modules: string[]): string[] {
  return modules.filter((m) => /node_modules\/(tsx|esbuild|fastify|kysely|pg|graphile-worker|mjml|zod|liquidjs|undici|yaml)\//.test(m) ||
    /(^|\/)(main|config|services)\.(js|ts)$/.test(m) || /\/(http|db|modules|worker)\//.test(m));
}

describe('the compiled CLI', () => {
  it('`--help` from the build loads commander and the CLI files only', async () => {
    const out = path.join(tmp, 'dist');
    await run(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--out', out], { cwd: root, timeout: 120_000 });
    const { stdout, modules } = await traced([path.join(out, 'cli', 'index.js'), '--help'], 'help');
    expect(stdout).toMatch(/^Usage: tandem /);
    expect(stdout).toContain('workspace');
    expect(modules.some((m) => m.endsWith('/cli/index.js'))).toBe(true);
    expect(heavy(modules)).toEqual([]);
    // The build is plain JavaScript beside its migrations (db/migrate.js reads ../migrations).
    expect(modules.some((m) => m.endsWith('.ts'))).toBe(false);
    await expect(readFile(path.join(out, 'migrations', '0001_foundation.sql'), 'utf8')).resolves.toContain('CREATE TABLE');
  }, 150_000);

  it('bin/tandem.js runs dist/ when it is fresh and the sources (tsx) when it is not', async () => {
    const fresh = isFresh(path.join(root, 'src'), path.join(root, 'dist'));
    const { stdout, modules } = await traced([path.join(root, 'bin', 'tandem.js'), '--help'], `bin-${fresh}`);
    expect(stdout).toMatch(/^Usage: tandem /);
    if (fresh) {
      expect(modules).toContain('dist/cli/index.js');
      expect(heavy(modules)).toEqual([]);
    } else {
      expect(modules).toContain('src/cli/index.ts');
      expect(modules.some((m) => m.includes('node_modules/tsx/'))).toBe(true);
    }
  }, 90_000);

  it('a build is stale once any source file is changed, added or removed after it started', async () => {
    const src = path.join(tmp, 'fixture', 'src');
    const dist = path.join(tmp, 'fixture', 'dist');
    await mkdir(path.join(src, 'deep'), { recursive: true });
    await mkdir(dist, { recursive: true });
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    const file = path.join(src, 'deep', 'a.ts');
    await writeFile(file, 'export {};\n');
    for (const p of [file, path.join(src, 'deep'), src]) await utimes(p, at(0), at(0));
    expect(isFresh(src, dist), 'no stamp: no build').toBe(false);
    await writeFile(path.join(dist, '.build-stamp.json'), JSON.stringify({ started: at(10).getTime() }));
    expect(isFresh(src, dist)).toBe(true);

    await utimes(file, at(20), at(20)); // edited after the build started
    expect(isFresh(src, dist)).toBe(false);
    await utimes(file, at(0), at(0));
    expect(isFresh(src, dist)).toBe(true);

    await rm(file); // removed: only its folder's mtime tells
    await utimes(path.join(src, 'deep'), at(20), at(20));
    expect(isFresh(src, dist)).toBe(false);

    await writeFile(path.join(dist, '.build-stamp.json'), '{"started":'); // a build cut off half-way
    await utimes(path.join(src, 'deep'), at(0), at(0));
    expect(isFresh(src, dist)).toBe(false);
  });
});
