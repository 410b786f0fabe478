import type { RedisCluster, RedisClusterNode } from './cluster.ts';
import {
  type ClusterNodeEntry,
  type ClusterNodeView,
  isHealthy,
  readView,
  SLOTS,
  servesSlot,
} from './cluster-state.ts';
import { pollUntil } from './poll.ts';
import { readReplication } from './replication.ts';
import { sendCommand } from './resp.ts';

/** How {@link failOverSlot} runs. */
export interface FailOverSlotOptions {
  /** Restart the killed master and wait until it serves as a replica of the promoted one. @default true */
  restartOldMaster?: boolean;
  /** Bound on the whole failover, from the kill until the cluster agrees again. @default 30000 */
  timeoutMs?: number;
}

/** What {@link failOverSlot} did, with times measured from the SIGKILL. */
export interface SlotFailover {
  /** The hash slot of the key. */
  slot: number;
  /** The master that owned the slot, SIGKILLed (and by default restarted as a replica). */
  killed: RedisClusterNode;
  /** Its replica that now owns the slot. */
  promoted: RedisClusterNode;
  /** Until the replica was master and every surviving node agreed it owns the slot. */
  promotedAfterMs: number;
  /** Until the restarted node was a replica of `promoted` with its link up and every node agreed. */
  rejoinedAfterMs?: number;
  /** When the killed master's process was seen to exit (`performance.now()`). */
  diedAt: number;
}

/** Each node's own view of its role; {@link refreshClusterRoles} resolves it. */
export interface ClusterRoles {
  masters: RedisClusterNode[];
  replicas: RedisClusterNode[];
  /** Nodes that do not answer (killed and not restarted). */
  down: RedisClusterNode[];
}

/**
 * Asks every node for its role (INFO replication), then reorders `cluster.nodes` in place (masters,
 * replicas, then nodes that are down) and `cluster.rootNodes` to the masters. Call it after a role
 * change the harness did not make itself, e.g. a failover while a test paused a master.
 */
export async function refreshClusterRoles(cluster: RedisCluster): Promise<ClusterRoles> {
  const roles = await Promise.all(
    cluster.nodes.map((node) =>
      readReplication(node.port, cluster.password).then(
        (state) => state.role,
        () => undefined,
      ),
    ),
  );
  const withRole = (role: string | undefined) => cluster.nodes.filter((_, i) => roles[i] === role);
  const found = { masters: withRole('master'), replicas: withRole('slave'), down: withRole(undefined) };
  cluster.nodes.splice(0, cluster.nodes.length, ...found.masters, ...found.replicas, ...found.down);
  cluster.rootNodes.splice(0, cluster.rootNodes.length, ...found.masters.map((node) => ({ url: node.url })));
  return found;
}

/** The views of the nodes that answer; a killed node is simply absent. */
async function liveViews(cluster: RedisCluster): Promise<ClusterNodeView[]> {
  const views = await Promise.allSettled(cluster.nodes.map((node) => readView(node, cluster.password)));
  const live = views.flatMap((view) => (view.status === 'fulfilled' ? [view.value] : []));
  if (live.length === 0) {
    throw new Error(`No node of the cluster answers (ports ${cluster.nodes.map((n) => n.port).join(', ')})`);
  }
  return live;
}

/** Asks a live node which slot the key hashes to (rather than depend on cluster-key-slot here). */
async function keySlot(view: ClusterNodeView, key: string, password: string | undefined): Promise<number> {
  const reply = await sendCommand(view.node.port, ['CLUSTER', 'KEYSLOT', key], password);
  const slot = Number(reply.slice(1));
  if (!reply.startsWith(':') || !Number.isInteger(slot)) {
    throw new Error(`CLUSTER KEYSLOT on port ${view.node.port} answered ${reply}`);
  }
  return slot;
}

/** The node's own CLUSTER NODES line. */
function self(view: ClusterNodeView): ClusterNodeEntry | undefined {
  return view.entries.find((entry) => entry.flags.includes('myself'));
}

/**
 * The live node that claims the slot for itself; a restarted old master may still claim it until
 * it hears it lost, so the claim with the higher config epoch wins, as it does in the cluster.
 */
function claimant(views: ClusterNodeView[], slot: number): ClusterNodeView | undefined {
  const claims = views.filter((view) => {
    const entry = self(view);
    return entry !== undefined && servesSlot(entry, slot);
  });
  return claims.sort((a, b) => (self(b)?.configEpoch ?? 0) - (self(a)?.configEpoch ?? 0))[0];
}

/** The live nodes' views, the key's slot, and the view of the master that serves it. */
async function ownerOf(cluster: RedisCluster, key: string) {
  const views = await liveViews(cluster);
  const slot = await keySlot(views[0]!, key, cluster.password);
  const owner = claimant(views, slot);
  if (owner === undefined) throw new Error(`No live node of the cluster serves slot ${slot} (key "${key}")`);
  return { views, slot, owner };
}

/** The master that serves `key` now, according to the live nodes' claims of their own slots. */
export async function masterForKey(cluster: RedisCluster, key: string): Promise<RedisClusterNode> {
  return (await ownerOf(cluster, key)).owner.node;
}

/** Throws unless the owner has a live replica and enough masters survive its kill to elect one. */
function checkCanFailOver(views: ClusterNodeView[], owner: ClusterNodeView, slot: number): ClusterNodeView[] {
  const replicas = views.filter((view) => !view.master && view.masterPort === owner.node.port);
  const where = `master ${owner.node.port} (slot ${slot})`;
  if (replicas.length === 0) {
    throw new Error(
      `failOverSlot: ${where} has no live replica to promote; start the cluster with replicasPerMaster >= 1 ` +
        `(and restart a node killed with restartOldMaster: false). Nodes:\n${views.map((v) => v.summary).join('\n')}`,
    );
  }
  // A replica is promoted only by the votes of a majority of the masters that serve slots.
  const masters = owner.entries.filter((entry) => entry.flags.includes('master') && entry.slots.length > 0);
  const voters = masters.filter((entry) => !entry.flags.includes('myself') && !entry.flags.includes('fail'));
  if (voters.length < Math.floor(masters.length / 2) + 1) {
    throw new Error(
      `failOverSlot: after killing ${where} only ${voters.length} of ${masters.length} masters could vote, ` +
        'not a majority; start the cluster with masters >= 3.',
    );
  }
  return replicas;
}

/** Polls until a replica of the killed master is master and every survivor agrees it owns the slot. */
function untilPromoted(
  survivors: RedisClusterNode[],
  replicaPorts: Set<number>,
  slot: number,
  password: string | undefined,
  deadline: number,
): Promise<ClusterNodeView> {
  const what = `a replica (port ${[...replicaPorts].join(', ')}) to take over slot ${slot}`;
  return pollUntil(what, deadline, async (saw) => {
    const now = await Promise.all(survivors.map((node) => readView(node, password)));
    saw(now.map((view) => view.summary).join('\n'));
    const candidate = now.find((view) => view.master && replicaPorts.has(view.node.port));
    const agreed = now.every(
      (view) =>
        view.state === 'ok' &&
        view.slotsAssigned === SLOTS &&
        view.entries.some((entry) => entry.port === candidate?.node.port && servesSlot(entry, slot)),
    );
    return candidate !== undefined && agreed ? candidate : undefined;
  });
}

/**
 * Polls until the restarted node replicates the promoted one with its link up, and every node sees a
 * healthy cluster (nodes down before the kill excepted) in which it is that node's replica.
 */
function untilRejoined(
  everyone: RedisClusterNode[],
  old: ClusterNodeView,
  promoted: ClusterNodeView,
  password: string | undefined,
  deadline: number,
): Promise<true> {
  const [oldId, promotedId] = [self(old)?.id, self(promoted)?.id];
  const downBefore = new Set(old.entries.filter((e) => e.flags.includes('fail')).map((e) => e.id));
  const what = `restarted ${old.node.port} to rejoin as a replica of ${promoted.node.port}`;
  return pollUntil(what, deadline, async (saw) => {
    const now = await Promise.all(everyone.map((node) => readView(node, password)));
    saw(now.map((view) => view.summary).join('\n'));
    const rejoined = now.find((view) => view.node === old.node);
    const asReplica = rejoined?.masterPort === promoted.node.port && rejoined.linkUp;
    const agreed = now.every(
      (view) =>
        isHealthy(view, old.knownNodes, downBefore) &&
        view.entries.some((entry) => entry.id === oldId && entry.masterId === promotedId),
    );
    return asReplica && agreed ? true : undefined;
  });
}

/**
 * SIGKILLs the master that owns `key`'s hash slot, waits until one of its replicas is promoted and
 * every surviving node agrees, then (by default) restarts the old master and waits until it has
 * rejoined as a replica of the new one and the whole cluster is healthy again. Needs a cluster
 * started with `replicasPerMaster >= 1` and at least 3 masters. Afterwards `cluster.nodes` and
 * `cluster.rootNodes` are reordered for the new roles (see {@link refreshClusterRoles}).
 *
 * @example
 * ```ts
 * const cluster = await startCluster({ masters: 3, replicasPerMaster: 1 });
 * const { promoted, promotedAfterMs } = await failOverSlot(cluster, 'user:42');
 * ```
 */
export async function failOverSlot(
  cluster: RedisCluster,
  key: string,
  options: FailOverSlotOptions = {},
): Promise<SlotFailover> {
  const restartOldMaster = options.restartOldMaster ?? true;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { password } = cluster;
  const { views, slot, owner } = await ownerOf(cluster, key);
  const replicaPorts = new Set(checkCanFailOver(views, owner, slot).map((view) => view.node.port));
  const killed = owner.node;
  const survivors = views.filter((view) => view !== owner).map((view) => view.node);

  const killedAt = Date.now();
  const deadline = killedAt + timeoutMs;
  await killed.kill();
  const diedAt = performance.now();
  const promoted = await untilPromoted(survivors, replicaPorts, slot, password, deadline);
  const promotedAfterMs = Date.now() - killedAt;
  if (restartOldMaster) {
    await killed.restart();
    await untilRejoined([...survivors, killed], owner, promoted, password, deadline);
  }
  const rejoinedAfterMs = restartOldMaster ? Date.now() - killedAt : undefined;
  await refreshClusterRoles(cluster);
  const result = { slot, killed, promoted: promoted.node, promotedAfterMs, diedAt };
  return rejoinedAfterMs === undefined ? result : { ...result, rejoinedAfterMs };
}
