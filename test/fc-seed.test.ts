// Property tests replay: fast-check's seed comes from FC_SEED (test/helpers/fc-seed.ts, a vitest
// setup file), and a failing property names it.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FC_SEED, seedFrom } from './helpers/fc-seed.ts';

async function testFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...await testFiles(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('fast-check seeds', () => {
  it('reads FC_SEED, and refuses a value that is not an integer', () => {
    expect(seedFrom('12345')).toBe(12345);
    expect(seedFrom('-7')).toBe(-7);
    expect(seedFrom(undefined, () => 99)).toBe(99);
    expect(seedFrom('', () => 98)).toBe(98);
    expect(() => seedFrom('abc')).toThrow(/FC_SEED must be an integer/);
    if (process.env.FC_SEED) expect(FC_SEED).toBe(Number(process.env.FC_SEED) | 0);
  });

  it('every fc.assert runs from that seed: the same values twice, and the failure names the seed', () => {
    expect(fc.readConfigureGlobal().seed).toBe(FC_SEED);
    const seen = (): number[] => {
      const values: number[] = [];
      fc.check(fc.property(fc.integer(), (n) => { values.push(n); }), { numRuns: 20 });
      return values;
    };
    expect(seen()).toEqual(seen());
    expect(() => fc.assert(fc.property(fc.integer(), (n) => n !== n + 0)))
      .toThrow(new RegExp(`seed: ${FC_SEED}\\b`));
  });

  it('no test sets a seed of its own or overrides the global configuration', async () => {
    const root = path.resolve(import.meta.dirname, '..');
    const offenders: string[] = [];
    for (const file of [...await testFiles(path.join(root, 'src')), ...await testFiles(path.join(root, 'test'))]) {
      if (file.endsWith(path.join('helpers', 'fc-seed.ts')) || file === import.meta.filename) continue;
      const text = await readFile(file, 'utf8');
      if (!/from 'fast-check'/.test(text)) continue;
      if (/\bseed\s*:|configureGlobal\(/.test(text.replace(/\/\/.*$/gm, ''))) offenders.push(path.relative(root, file));
    }
    expect(offenders).toEqual([]);
  });
});
