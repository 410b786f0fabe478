// Without an import of 'vitest' itself, tsc refuses the augmentation below ("module cannot be found").
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { type RedisCluster, startCluster } from './cluster.ts';
import { type RedisServer, startRedis } from './server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    clusterRootNodes: Array<{ url: string }>;
  }
}

/**
 * Vitest global setup: one standalone server and, unless REDIS_PATTERNS_CLUSTER=0, one 3-master
 * Cluster for the whole run, provided as 'redisUrl' and 'clusterRootNodes'; returns the teardown.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const wantCluster = process.env.REDIS_PATTERNS_CLUSTER !== '0';
  // Concurrently: the cluster takes a few seconds and the standalone server should not wait for it.
  const [server, cluster] = await Promise.allSettled([
    startRedis(),
    wantCluster ? startCluster() : Promise.resolve(undefined),
  ]);
  const teardown = async () => {
    await Promise.all([
      settledValue<RedisServer>(server)?.stop(),
      settledValue<RedisCluster>(cluster)?.stop(),
    ]);
  };
  // One failed: stop the other so nothing outlives a setup that threw.
  if (server.status === 'rejected') {
    await teardown();
    throw server.reason;
  }
  if (cluster.status === 'rejected') {
    await teardown();
    throw cluster.reason;
  }
  project.provide('redisUrl', server.value.url);
  project.provide('clusterRootNodes', cluster.value?.rootNodes ?? []);
  return teardown;
}

function settledValue<T>(result: PromiseSettledResult<T | undefined>): T | undefined {
  return result.status === 'fulfilled' ? result.value : undefined;
}
