import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));

/** Package names (and subpaths such as `@redis-patterns/session/express`) resolve to their sources, so tests run without a build. */
function sourceAliases(): Array<{ find: RegExp; replacement: string }> {
  return readdirSync(join(root, 'packages')).flatMap((dir) => [
    {
      find: new RegExp(`^@redis-patterns/${dir}$`),
      replacement: join(root, 'packages', dir, 'src', 'index.ts'),
    },
    {
      find: new RegExp(`^@redis-patterns/${dir}/(?!package\\.json$)(.+)$`),
      replacement: join(root, 'packages', dir, 'src', '$1.ts'),
    },
  ]);
}

/**
 * Test files run at once, for the whole repo and for one package alike: two per core, at most eight
 * (vitest's default is cores - 1), each on servers of its own (packages/testing's global setup
 * starts one set per worker). Most files spend half their time waiting on timers, restarts and
 * child processes, so one file per core leaves the cores half idle. A REDIS_URL is one server for
 * every worker, so with it files run one at a time. VITEST_MAX_WORKERS overrides it.
 */
export const TEST_WORKERS = process.env.REDIS_URL ? 1 : Math.min(8, 2 * availableParallelism());

/**
 * The vitest project of one package: its tests, source aliases, its workers, and the global setup
 * that starts the Redis servers the run needs (per worker: standalone always, a Cluster when asked).
 */
export function packageProject(configUrl: string) {
  const dir = dirname(fileURLToPath(configUrl));
  // examples/leaderboard and packages/leaderboard need distinct project names.
  const name = basename(dirname(dir)) === 'examples' ? `example-${basename(dir)}` : basename(dir);
  return defineProject({
    resolve: { alias: sourceAliases() },
    test: {
      name,
      root: dir,
      include: ['test/**/*.test.ts'],
      globalSetup: [join(root, 'packages', 'testing', 'src', 'global-setup.ts')],
      maxWorkers: TEST_WORKERS,
      testTimeout: 60_000,
      hookTimeout: 120_000,
    },
  });
}
