// The vitest config StrykerJS runs (stryker.config.json): the project's own (its global setup makes or
// finds the database, DATABASE_URL or embedded), with isolate off so that a mutant's run does not
// import the whole application again: Stryker switches mutants at run time, not by reloading modules.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default mergeConfig(base, defineConfig({ test: { isolate: false } }));
