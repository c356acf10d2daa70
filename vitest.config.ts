import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // fast-check's seed from FC_SEED (printed when a property fails): every property test replays.
    setupFiles: ['test/helpers/fc-seed.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: a few files at once, each with its own database.
    maxWorkers: 3,
  },
});
