import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'examples/*/vitest.config.ts'],
    // Two test files at a time (vitest's default on two cores is one), each on the servers of its
    // own worker: packages/testing's global setup starts one set per worker, once for all projects.
    // A REDIS_URL is one server for every worker, so with it the files run one at a time.
    // VITEST_MAX_WORKERS overrides both.
    maxWorkers: process.env.REDIS_URL ? 1 : 2,
  },
});
