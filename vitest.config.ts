import { defineConfig } from 'vitest/config';
import { TEST_WORKERS } from './vitest.shared.ts';

export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'examples/*/vitest.config.ts'],
    // Every project sets the same (vitest.shared.ts); the root's is what the run reports.
    maxWorkers: TEST_WORKERS,
  },
});
