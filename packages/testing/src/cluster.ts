import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { onPath, passwordIn, startBinary } from './binary.ts';
import { freeClusterPort } from './ports.ts';
import { track } from './processes.ts';
import { sendCommand } from './resp.ts';
import { noRedisError, type RedisServer } from './server.ts';

const CLUSTER_TIMEOUT_MS = 30_000;

/** One node of a {@link RedisCluster}; restart() keeps its nodes.conf, so it rejoins with the same id. */
export interface RedisClusterNode extends RedisServer {}

/** A running Redis Cluster of spawned redis-server nodes. */
export interface RedisCluster {
  /** Masters first, then replicas. */
  nodes: RedisClusterNode[];
  /** The masters, ready for node-redis `createCluster({ rootNodes })`. */
  rootNodes: Array<{ url: string }>;
  /** Stops every node and removes their temp dirs. */
  stop(): Promise<void>;
}

/** Node states as seen by each node: `cluster_state`, slots, known nodes, role and replica link. */
interface NodeView {
  ok: boolean;
  master: boolean;
  summary: string;
}

async function view(node: RedisServer, total: number, password: string | undefined): Promise<NodeView> {
  const [info, replication] = await Promise.all([
    sendCommand(node.port, ['CLUSTER', 'INFO'], password),
    sendCommand(node.port, ['INFO', 'replication'], password),
  ]);
  const field = (text: string, name: string) => new RegExp(`^${name}:(\\S*)`, 'm').exec(text)?.[1];
  const master = field(replication, 'role') === 'master';
  const ok =
    field(info, 'cluster_state') === 'ok' &&
    field(info, 'cluster_slots_assigned') === '16384' &&
    field(info, 'cluster_known_nodes') === `${total}` &&
    (master || field(replication, 'master_link_status') === 'up');
  const summary = `${node.port}: ${info.split('\r\n').slice(0, 4).join(' ')} role:${master ? 'master' : 'replica'}`;
  return { ok, master, summary };
}

/** Polls until every node agrees the cluster is ok; resolves each node's view. */
async function waitForAgreement(nodes: RedisServer[], password: string | undefined): Promise<NodeView[]> {
  const deadline = Date.now() + CLUSTER_TIMEOUT_MS;
  let views: NodeView[] = [];
  while (Date.now() < deadline) {
    views = await Promise.all(nodes.map((node) => view(node, nodes.length, password)));
    if (views.every((v) => v.ok)) return views;
    await sleep(200);
  }
  const seen = views.map((v) => v.summary).join('\n');
  throw new Error(`Redis Cluster did not converge within ${CLUSTER_TIMEOUT_MS} ms:\n${seen}`);
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
    const views = await waitForAgreement(nodes, password);
    // redis-cli picks which nodes become masters; order by what the nodes report.
    const ordered = [
      ...nodes.filter((_, i) => views[i]?.master),
      ...nodes.filter((_, i) => !views[i]?.master),
    ];
    const rootNodes = ordered.slice(0, masters).map((node) => ({ url: node.url }));
    return { nodes: ordered, rootNodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
