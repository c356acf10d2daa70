// Every fast-check property in the suite runs from one seed: FC_SEED from the environment, else a new
// one per test file. It is set as fast-check's global default (vitest setupFiles), so no fc.assert can
// forget it, and a failing property prints the line that replays it:
//   FC_SEED=<seed> npx vitest run <file>
import path from 'node:path';
import fc from 'fast-check';
import { beforeEach, onTestFailed } from 'vitest';

/** FC_SEED as a 32-bit integer; a fresh one when it is unset. A value that is not an integer is refused. */
export function seedFrom(raw: string | undefined, fresh: () => number = () => (Math.random() * 2 ** 32) | 0): number {
  if (raw === undefined || raw.trim() === '') return fresh();
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`FC_SEED must be an integer, got "${raw}"`);
  return n | 0;
}

export const FC_SEED = seedFrom(process.env.FC_SEED);

fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: FC_SEED });

beforeEach((ctx) => {
  onTestFailed(({ task }) => {
    // Only failures that came out of fast-check: other failures have nothing to replay.
    if (!(task.result?.errors ?? []).some((e) => /Property failed|seed: -?\d+/.test(`${e.message ?? ''}`))) return;
    process.stderr.write(`\n[fast-check] "${ctx.task.name}" failed with seed ${FC_SEED}; replay it with FC_SEED=${FC_SEED} npx vitest run ${path.relative(process.cwd(), ctx.task.file.filepath)}\n`);
  });
});
