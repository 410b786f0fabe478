import { inject } from 'vitest';

/** One topology every pattern's suite runs against. */
export interface Topology {
  name: 'standalone' | 'cluster';
  /** A URL for `connect({ url })`: Cluster nodes as `redis://a:1,b:2?cluster=true`. */
  url: string;
}

/**
 * The topologies of this run, from the global setup: standalone always, Cluster unless
 * REDIS_PATTERNS_CLUSTER=0, each this test worker's own (no file running at the same time uses
 * them). Use with `describe.each(topologies())('... on $name', ({ url }) => ...)`.
 */
export function topologies(): Topology[] {
  const worker = workerIndex();
  const list: Topology[] = [{ name: 'standalone', url: pick(inject('redisUrls'), worker) }];
  const nodes = pick(inject('clusterRootNodeSets'), worker);
  if (nodes.length > 0) {
    const hosts = nodes.map((node) => new URL(node.url).host).join(',');
    list.push({ name: 'cluster', url: `redis://${hosts}?cluster=true` });
  }
  return list;
}

/** This test worker's index, from 0: vitest numbers its workers 1 to maxWorkers (VITEST_POOL_ID). */
function workerIndex(): number {
  const id = Number(process.env.VITEST_POOL_ID ?? '1');
  return Number.isInteger(id) && id >= 1 ? id - 1 : 0;
}

/** The worker's own set; never another worker's, which a file running at the same time uses. */
function pick<T>(sets: T[], worker: number): T {
  const set = sets[worker];
  if (set === undefined) {
    throw new Error(
      `test worker ${worker + 1} has no Redis servers: the global setup started ${sets.length} set(s), one per worker (maxWorkers)`,
    );
  }
  return set;
}
