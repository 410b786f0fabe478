import { pollUntil } from './poll.ts';
import { describeReplication, parseReplication } from './replication.ts';
import { infoField, sendCommands } from './resp.ts';
import type { RedisServer } from './server.ts';

/** Slots in a Redis Cluster. */
export const SLOTS = 16384;

/** One line of CLUSTER NODES: what one node believes about another (or, flagged `myself`, itself). */
export interface ClusterNodeEntry {
  id: string;
  port: number;
  /** `myself`, `master`, `slave`, `fail?` (suspected), `fail`, `handshake`, `noaddr`... */
  flags: string[];
  /** The id of its master when it is a replica, else `-`. */
  masterId: string;
  /** The epoch its slot claim carries: the higher one wins when two masters claim a slot. */
  configEpoch: number;
  /** Slot ranges it serves, `[first, last]` inclusive; migration markers are left out. */
  slots: Array<[number, number]>;
}

/** What one node reports: CLUSTER INFO, INFO replication and CLUSTER NODES in a single round trip. */
export interface ClusterNodeView {
  node: RedisServer;
  /** INFO replication says role:master. */
  master: boolean;
  /** For a replica: its master's port and whether the replication link is up. */
  masterPort: number | undefined;
  linkUp: boolean;
  state: string | undefined;
  slotsAssigned: number;
  slotsOk: number;
  knownNodes: number;
  entries: ClusterNodeEntry[];
  /** One line for error messages. */
  summary: string;
}

/** Parses a CLUSTER NODES reply. */
export function parseClusterNodes(text: string): ClusterNodeEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', address = '', flags = '', masterId = '-', , , epoch = '0', , ...slots] = line
        .trim()
        .split(' ');
      return {
        id,
        port: Number(/:(\d+)@/.exec(address)?.[1] ?? Number.NaN),
        flags: flags.split(','),
        masterId,
        configEpoch: Number(epoch),
        slots: slots
          .filter((range) => !range.startsWith('['))
          .map((range): [number, number] => {
            const [first = '', last = first] = range.split('-');
            return [Number(first), Number(last)];
          }),
      };
    });
}

/** Whether the entry is a master that serves `slot` and is not flagged failing. */
export function servesSlot(entry: ClusterNodeEntry, slot: number): boolean {
  return (
    entry.flags.includes('master') &&
    !entry.flags.includes('fail') &&
    entry.slots.some(([first, last]) => first <= slot && slot <= last)
  );
}

/** Reads one node's view; rejects if it does not answer (a killed node). */
export async function readView(node: RedisServer, password: string | undefined): Promise<ClusterNodeView> {
  const auth = password === undefined ? [] : [['AUTH', password]];
  const replies = await sendCommands(node.port, [
    ...auth,
    ['CLUSTER', 'INFO'],
    ['INFO', 'replication'],
    ['CLUSTER', 'NODES'],
  ]);
  const [info = '', replication = '', nodes = ''] = replies.slice(-3);
  const { role, masterPort, linkUp } = parseReplication(replication);
  const master = role === 'master';
  const state = infoField(info, 'cluster_state');
  const slotsAssigned = Number(infoField(info, 'cluster_slots_assigned'));
  const slotsOk = Number(infoField(info, 'cluster_slots_ok'));
  const knownNodes = Number(infoField(info, 'cluster_known_nodes'));
  const entries = parseClusterNodes(nodes);
  const flagged = entries
    .filter((entry) => entry.flags.some((flag) => flag.startsWith('fail') || flag === 'handshake'))
    .map((entry) => `${entry.port}(${entry.flags.join(',')})`);
  const summary =
    `${describeReplication(node.port, { role, masterPort, linkUp })}, cluster_state:${state} slots assigned ${slotsAssigned} ok ${slotsOk}, ` +
    `knows ${knownNodes} nodes${flagged.length > 0 ? `, flags ${flagged.join(' ')}` : ''}`;
  return {
    node,
    master,
    masterPort,
    linkUp,
    state,
    slotsAssigned,
    slotsOk,
    knownNodes,
    entries,
    summary,
  };
}

/**
 * Whether a node sees a whole healthy cluster: state ok, every slot served, `knownNodes` nodes with
 * none failing or mid-handshake (`ignoredIds` excepted: nodes already down on purpose), and, for a
 * replica, its link up.
 */
export function isHealthy(
  view: ClusterNodeView,
  knownNodes: number,
  ignoredIds = new Set<string>(),
): boolean {
  const troubled = view.entries.some(
    (entry) =>
      !ignoredIds.has(entry.id) &&
      entry.flags.some((flag) => flag.startsWith('fail') || flag === 'handshake'),
  );
  return (
    view.state === 'ok' &&
    view.slotsAssigned === SLOTS &&
    view.slotsOk === SLOTS &&
    view.knownNodes === knownNodes &&
    !troubled &&
    (view.master || view.linkUp)
  );
}

/** Polls until every node sees the same healthy cluster of all of them; resolves each node's view. */
export function waitForAgreement(
  nodes: RedisServer[],
  password: string | undefined,
  deadline: number,
): Promise<ClusterNodeView[]> {
  return pollUntil(`the ${nodes.length} cluster nodes to agree the cluster is ok`, deadline, async (saw) => {
    const views = await Promise.all(nodes.map((node) => readView(node, password)));
    saw(views.map((view) => view.summary).join('\n'));
    return views.every((view) => isHealthy(view, nodes.length)) ? views : undefined;
  });
}
