#!/usr/bin/env node
// Runs the compiled JavaScript in dist/ (built by `npm ci`, `npm start` and `npm test`: scripts/build.mjs)
// when it is newer than every source file; otherwise the TypeScript sources through tsx, so an edited
// src/ never runs stale code (docs/operations.md#the-compiled-cli). TANDEM_FROM_SOURCE=1 forces tsx.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isFresh } from './build-state.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

if (process.env.TANDEM_FROM_SOURCE !== '1' && isFresh(path.join(root, 'src'), dist)) {
  await import('../dist/cli/index.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/index.ts');
}
