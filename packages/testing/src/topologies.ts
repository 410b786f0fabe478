import { inject } from 'vitest';

/** One topology every pattern's suite runs against. */
export interface Topology {
  name: 'standalone' | 'cluster';
  /** A URL for `connect({ url })`: Cluster nodes as `redis://a:1,b:2?cluster=true`. */
  url: string;
}

/**
 * The topologies of this run, from the global setup: standalone always, Cluster unless
 * REDIS_PATTERNS_CLUSTER=0. Use with `describe.each(topologies())('... on $name', ({ url }) => ...)`.
 */
export function topologies(): Topology[] {
  const list: Topology[] = [{ name: 'standalone', url: inject('redisUrl') }];
  const nodes = inject('clusterRootNodes');
  if (nodes.length > 0) {
    const hosts = nodes.map((node) => new URL(node.url).host).join(',');
    list.push({ name: 'cluster', url: `redis://${hosts}?cluster=true` });
  }
  return list;
}
