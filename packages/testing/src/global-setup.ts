import { availableParallelism } from 'node:os';
// Without an import of 'vitest' itself, tsc refuses the augmentation below ("module cannot be found").
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { type RedisCluster, startCluster } from './cluster.ts';
import { type RedisServer, startRedis } from './server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** One standalone server's URL per test worker (`VITEST_POOL_ID` 1 takes the first). */
    redisUrls: string[];
    /** One 3-master Cluster's root nodes per test worker; empty lists when Cluster is off. */
    clusterRootNodeSets: Array<Array<{ url: string }>>;
  }
}

/** The servers of one test worker. */
interface WorkerServers {
  server: RedisServer;
  cluster: RedisCluster | undefined;
}

/** The servers of this run, shared by every project's setup: they all run in vitest's main process. */
interface Shared {
  started: Promise<WorkerServers[]>;
  users: number;
}

const SHARED = Symbol.for('redis-patterns.testing.global-setup');
const state = globalThis as { [SHARED]?: Shared };

/**
 * Vitest global setup: for each test worker, one standalone server and, unless
 * REDIS_PATTERNS_CLUSTER=0, one 3-master Cluster, provided as 'redisUrls' and 'clusterRootNodeSets'
 * (topologies() picks the worker's own). Files running at once never share a server, so a test may
 * read server-wide numbers (INFO commandstats, connected clients) as when files ran one at a time.
 *
 * Every project of a run lists this setup; the first starts the servers and the others reuse
 * them (one start, not one per package). The last teardown stops them.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let shared = state[SHARED];
  if (shared === undefined) {
    shared = { started: startAll(workerCount(project)), users: 0 };
    state[SHARED] = shared;
    // A failed start is not kept: the next project's setup (or run) tries again.
    shared.started.catch(() => {
      if (state[SHARED] === shared) delete state[SHARED];
    });
  }
  const mine = shared;
  const sets = await mine.started;
  mine.users += 1;
  project.provide(
    'redisUrls',
    sets.map((s) => s.server.url),
  );
  project.provide(
    'clusterRootNodeSets',
    sets.map((s) => s.cluster?.rootNodes ?? []),
  );
  return async () => {
    mine.users -= 1;
    if (mine.users > 0) return;
    if (state[SHARED] === mine) delete state[SHARED];
    await stopAll(sets);
  };
}

/**
 * How many files vitest runs at once, read as vitest reads it: the project's maxWorkers, else the
 * run's, else its default (cores - 1; half the cores in watch mode). Every project of this repo
 * sets the same (vitest.shared.ts).
 */
function workerCount(project: TestProject): number {
  for (const configured of [project.config.maxWorkers, project.vitest.config.maxWorkers]) {
    const n = Number(configured);
    if (Number.isInteger(n) && n >= 1) return n;
  }
  const cores = availableParallelism();
  return Math.max(project.vitest.config.watch ? Math.floor(cores / 2) : cores - 1, 1);
}

/** Every worker's servers, started concurrently; if any fails, the others are stopped. */
async function startAll(workers: number): Promise<WorkerServers[]> {
  const wantCluster = process.env.REDIS_PATTERNS_CLUSTER !== '0';
  const starts = Array.from({ length: workers }, () =>
    Promise.allSettled([startRedis(), wantCluster ? startCluster() : Promise.resolve(undefined)]),
  );
  const settled = await Promise.all(starts);
  const started: WorkerServers[] = [];
  const toStop: Array<RedisServer | RedisCluster> = [];
  let failure: unknown;
  for (const [server, cluster] of settled) {
    if (server.status === 'fulfilled') toStop.push(server.value);
    else failure ??= server.reason;
    if (cluster.status === 'fulfilled') {
      if (cluster.value !== undefined) toStop.push(cluster.value);
    } else failure ??= cluster.reason;
    if (server.status === 'fulfilled' && cluster.status === 'fulfilled') {
      started.push({ server: server.value, cluster: cluster.value });
    }
  }
  if (failure !== undefined) {
    // One failed: stop the rest so nothing outlives a setup that threw (and report that failure,
    // not one of these stops').
    await Promise.allSettled(toStop.map((s) => s.stop()));
    throw failure;
  }
  return started;
}

async function stopAll(sets: WorkerServers[]): Promise<void> {
  await Promise.all(sets.flatMap((s) => [s.server.stop(), s.cluster?.stop()]));
}
