import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { onPath, passwordIn, startBinary } from './binary.ts';
import { waitForAgreement } from './cluster-state.ts';
import { freeClusterPort } from './ports.ts';
import { track } from './processes.ts';
import { noRedisError, type RedisServer } from './server.ts';

const CLUSTER_TIMEOUT_MS = 30_000;

/** One node of a {@link RedisCluster}; restart() keeps its nodes.conf, so it rejoins with the same id. */
export interface RedisClusterNode extends RedisServer {}

/** A running Redis Cluster of spawned redis-server nodes. */
export interface RedisCluster {
  /**
   * Masters first, then replicas, as of startup. A failover swaps roles: {@link failOverSlot}
   * reorders this array in place, and {@link refreshClusterRoles} does after any other change.
   */
  nodes: RedisClusterNode[];
  /** The masters, ready for node-redis `createCluster({ rootNodes })`; reordered with `nodes`. */
  rootNodes: Array<{ url: string }>;
  /** The `--requirepass` from the args, which the harness needs to probe nodes; undefined without one. */
  password: string | undefined;
  /** Stops every node and removes their temp dirs. */
  stop(): Promise<void>;
}

/** Joins the nodes with `redis-cli --cluster create`, which also assigns all 16384 slots. */
async function create(nodes: RedisServer[], replicas: number, password: string | undefined): Promise<void> {
  const auth = password === undefined ? [] : ['-a', password, '--no-auth-warning'];
  const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
  const cli = ['--cluster', 'create', ...addresses, '--cluster-replicas', `${replicas}`, '--cluster-yes'];
  const run = promisify(execFile)('redis-cli', [...auth, ...cli], { timeout: CLUSTER_TIMEOUT_MS });
  track(run.child);
  try {
    await run;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`redis-cli --cluster create failed: ${String(error)}\n${stdout}${stderr}`);
  }
}

/** Starts a Redis Cluster of spawned redis-server nodes and resolves once every node agrees it is ok. */
export async function startCluster(
  options: { masters?: number; replicasPerMaster?: number; args?: string[] } = {},
): Promise<RedisCluster> {
  const { masters = 3, replicasPerMaster = 0, args = [] } = options;
  if (!onPath('redis-server') || !onPath('redis-cli')) throw noRedisError(true);
  const clusterArgs = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'];
  // No diskless-sync delay: replicas would otherwise wait 5 s for their first full sync.
  const timing = ['--cluster-node-timeout', '2000', '--repl-diskless-sync-delay', '0'];
  const nodeArgs = [...clusterArgs, ...timing, ...args];
  const count = masters * (1 + replicasPerMaster);
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => startBinary(nodeArgs, freeClusterPort)),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const password = passwordIn(args);
    await create(nodes, replicasPerMaster, password);
    const views = await waitForAgreement(nodes, password, Date.now() + CLUSTER_TIMEOUT_MS);
    // redis-cli picks which nodes become masters; order by what the nodes report.
    const ordered = [
      ...nodes.filter((_, i) => views[i]?.master),
      ...nodes.filter((_, i) => !views[i]?.master),
    ];
    const rootNodes = ordered.slice(0, masters).map((node) => ({ url: node.url }));
    return { nodes: ordered, rootNodes, password, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
