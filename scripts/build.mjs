// Compiles src/ to JavaScript in dist/ (esbuild, about a second), so that `tandem` does not compile
// TypeScript on every run (tsx: 6–11 s per command on a busy 2-core machine). Run by `npm ci`
// (prepare), `npm start` (prestart) and `npm test` (pretest); bin/tandem.js uses dist/ only while
// it is newer than every file under src/ (bin/build-state.js) and runs the sources otherwise.
//
// One output file per source file, same layout (dist/db/migrate.js beside dist/migrations/), relative
// imports rewritten from .ts to .js: `import.meta.url` keeps its meaning and dynamic imports stay lazy.
// Packages stay in node_modules (not bundled). See docs/decisions/0002-compiled-cli.md.
import { build } from 'esbuild';
import { cp, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAMP, isFresh } from '../bin/build-state.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function sources(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(p)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/**
 * Pure-JS packages loaded at every start from hundreds of small files (kysely: about 1,000 modules) and
 * imported by no other package (zod is not: fastify-type-provider-zod must see the same copy):
 * bundled, once, into shared chunks, which saves their resolution and file reads on every start.
 */
const BUNDLED = new Set(['kysely']);

/** Relative imports stay imports (of the compiled sibling), never inlined; other packages stay in node_modules. */
const keepImports = {
  name: 'keep-imports',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind === 'entry-point' || args.importer.includes('/node_modules/')) return undefined;
      return { path: args.path.replace(/\.ts$/, '.js'), external: true };
    });
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      return BUNDLED.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

/** Builds src/ into `outDir` (default dist/), replacing it whole once the new build is complete. */
export async function buildDist(outDir = path.join(root, 'dist')) {
  const started = Date.now();
  const src = path.join(root, 'src');
  const tmp = `${outDir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await build({
    entryPoints: await sources(src),
    outdir: tmp,
    outbase: src,
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    plugins: [keepImports],
    logLevel: 'warning',
  });
  await cp(path.join(src, 'migrations'), path.join(tmp, 'migrations'), { recursive: true });
  // Sources changed after `started` make the build stale (bin/build-state.js).
  await writeFile(path.join(tmp, STAMP), `${JSON.stringify({ started })}\n`);
  await mkdir(path.dirname(outDir), { recursive: true });
  const old = `${outDir}.old-${process.pid}`;
  await rename(outDir, old).catch(() => undefined);
  await rename(tmp, outDir);
  await rm(old, { recursive: true, force: true });
  return { ms: Date.now() - started };
}

// `node scripts/build.mjs [--if-stale] [--out DIR]`: --if-stale (prestart, pretest) does nothing while
// dist/ is fresh; --out builds elsewhere (test/cli-startup.test.ts).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const out = args.includes('--out') ? path.resolve(args[args.indexOf('--out') + 1] ?? '') : path.join(root, 'dist');
  if (!(args.includes('--if-stale') && isFresh(path.join(root, 'src'), out))) {
    const { ms } = await buildDist(out);
    process.stderr.write(`tandem: compiled src/ to ${path.relative(root, out) || out} in ${ms} ms\n`);
  }
}
