import { onPath, startBinary } from './binary.ts';
import { pollUntil } from './poll.ts';
import { describeReplication, readReplication } from './replication.ts';
import { infoField, sendCommand } from './resp.ts';
import { masterAddress, spawnSentinel } from './sentinel.ts';
import { noRedisError, type RedisServer } from './server.ts';

/** How {@link startSentinelGroup} sets up the servers and sentinels. */
export interface SentinelGroupOptions {
  /** Replicas started with `--replicaof` the master. @default 1 */
  replicas?: number;
  /** Sentinels monitoring the master; quorum 1 for one sentinel, else a majority. @default 1 */
  sentinels?: number;
  /** The master group name the sentinels use. @default 'mymaster' */
  name?: string;
  /** Bound on the startup, until the sentinels know every replica and each other. @default 30000 */
  timeoutMs?: number;
}

/** How {@link RedisSentinelGroup.failover} forces a failover. */
export interface SentinelFailoverOptions {
  /** `kill` SIGKILLs the master for the sentinels to notice; `manual` sends SENTINEL FAILOVER. @default 'kill' */
  mode?: 'kill' | 'manual';
  /**
   * Restart the killed master and wait until Sentinel has made it a replica of the new master. In
   * `manual` mode the old master never stopped, so this only waits for Sentinel to demote it.
   * @default true
   */
  restartOldMaster?: boolean;
  /** Bound on the whole failover, from the kill (or SENTINEL FAILOVER) to the rejoin. @default 30000 */
  timeoutMs?: number;
}

/** What a {@link RedisSentinelGroup.failover} did, with times measured from its start. */
export interface SentinelFailover {
  previous: RedisServer;
  promoted: RedisServer;
  /** Until every sentinel gave out the new master's address and that server reported role:master. */
  promotedAfterMs: number;
  /** Until the old master was a replica of the new one with master_link_status:up. */
  rejoinedAfterMs?: number;
  /** In `mode: 'kill'`, when the killed master's process was seen to exit (`performance.now()`). */
  diedAt?: number;
}

/** A master, its replicas, and the sentinels that watch them. */
export interface RedisSentinelGroup {
  /** `redis://127.0.0.1:S1,127.0.0.1:S2?sentinelMaster=NAME`: the sentinels, for connect({ url }). */
  url: string;
  name: string;
  /** The master as of startup or the last failover() or refreshMaster(). */
  master(): RedisServer;
  /** Asks the first sentinel which server is master now (after a failover it ran on its own). */
  refreshMaster(): Promise<RedisServer>;
  /** Every data server, the first master first; the order never changes, roles do. */
  servers: RedisServer[];
  sentinels: RedisServer[];
  /** Forces a failover and waits for it; see {@link SentinelFailoverOptions}. */
  failover(options?: SentinelFailoverOptions): Promise<SentinelFailover>;
  /** Stops the sentinels, then the servers. */
  stop(): Promise<void>;
}

// No diskless-sync delay: a replica would otherwise wait 5 s for every full sync.
const SERVER_ARGS = ['--repl-diskless-sync-delay', '0'];

/** One sentinel's view of the group. */
interface SentinelState {
  /** The master port it gives clients (SENTINEL GET-MASTER-ADDR-BY-NAME). */
  gives: number | undefined;
  /** Its INFO sentinel `master0:` line: name, status, address, replica and sentinel counts. */
  master0: string;
  /** Both, for error messages. */
  text: string;
}

/**
 * Each sentinel's view of the group, and whether it is in TILT mode: a sentinel whose timer
 * stalled for 2 s (a loaded machine) does nothing for 30 s, which explains a stuck failover.
 */
function sentinelStates(sentinels: RedisServer[], name: string): Promise<SentinelState[]> {
  return Promise.all(
    sentinels.map(async (sentinel) => {
      const [address, info] = await Promise.all([
        masterAddress(sentinel, name),
        sendCommand(sentinel.port, ['INFO', 'sentinel']),
      ]);
      const master0 = infoField(info, 'master0') ?? '';
      const tilt = infoField(info, 'sentinel_tilt') === '1' ? ' (TILT)' : '';
      const text = `sentinel ${sentinel.port} gives master ${address?.port}; ${master0}${tilt}`;
      return { gives: address?.port, master0, text };
    }),
  );
}

/**
 * Polls until `server` replicates `master` with its link up; during a failover Sentinel is what
 * reconfigures it, so this throws at once if a sentinel moves on to yet another master.
 */
async function untilReplicaOf(
  server: RedisServer,
  master: RedisServer,
  deadline: number,
  watch: { sentinels: RedisServer[]; name: string } = { sentinels: [], name: '' },
): Promise<void> {
  const outcome = await pollUntil(`${server.port} to replicate ${master.port}`, deadline, async (saw) => {
    const state = await readReplication(server.port);
    const states = await sentinelStates(watch.sentinels, watch.name);
    saw([describeReplication(server.port, state), ...states.map((each) => each.text)].join('\n'));
    const moved = states.find((each) => each.gives !== master.port);
    if (moved !== undefined) return moved.text;
    const rejoined = state.role === 'slave' && state.masterPort === master.port && state.linkUp;
    return rejoined ? 'rejoined' : undefined;
  });
  if (outcome !== 'rejoined') {
    throw new Error(
      `Sentinel failed over again while ${server.port} was to rejoin ${master.port}: ${outcome}. ` +
        'The new master missed PINGs for down-after-milliseconds (1000 ms): was the machine stalled?',
    );
  }
}

/** Polls until every sentinel gives out the address of the same master other than `previous`. */
function untilPromoted(group: RedisSentinelGroup, previous: RedisServer, deadline: number) {
  return pollUntil(`the sentinels to replace master ${previous.port}`, deadline, async (saw) => {
    const states = await sentinelStates(group.sentinels, group.name);
    const lines = states.map((each) => each.text);
    saw(lines.join('\n'));
    const promoted = group.servers.find((server) => server.port === states[0]?.gives);
    const agreed = states.every((each) => each.gives === promoted?.port);
    if (promoted === undefined || promoted === previous || !agreed) return undefined;
    const state = await readReplication(promoted.port);
    saw([...lines, describeReplication(promoted.port, state)].join('\n'));
    return state.role === 'master' ? promoted : undefined;
  });
}

/** Polls until every sentinel knows the master, all its replicas and every other sentinel. */
function untilSentinelsReady(group: RedisSentinelGroup, deadline: number): Promise<true> {
  const want = `status=ok,address=127.0.0.1:${group.master().port},slaves=${group.servers.length - 1},sentinels=${group.sentinels.length}`;
  return pollUntil(`the sentinels to report ${want}`, deadline, async (saw) => {
    const states = await sentinelStates(group.sentinels, group.name);
    saw(states.map((each) => each.text).join('\n'));
    return states.every((each) => each.master0 === `name=${group.name},${want}`) ? true : undefined;
  });
}

/**
 * Starts a master, `replicas` replicas and `sentinels` sentinels monitoring it, and resolves once
 * every sentinel knows every replica and every other sentinel. Uses the redis-server binary.
 *
 * @example
 * ```ts
 * const group = await startSentinelGroup({ replicas: 1 });
 * const { promoted, promotedAfterMs } = await group.failover({ mode: 'kill' });
 * ```
 */
export async function startSentinelGroup(options: SentinelGroupOptions = {}): Promise<RedisSentinelGroup> {
  const replicas = options.replicas ?? 1;
  const sentinelCount = options.sentinels ?? 1;
  const name = options.name ?? 'mymaster';
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  if (!onPath('redis-server')) throw noRedisError(true);
  const servers: RedisServer[] = [];
  const sentinels: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(sentinels.map((sentinel) => sentinel.stop()));
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    const first = await startBinary(SERVER_ARGS);
    servers.push(first);
    const replicaArgs = [...SERVER_ARGS, '--replicaof', first.host, `${first.port}`];
    for (let i = 0; i < replicas; i++) servers.push(await startBinary(replicaArgs));
    // Sentinel finds replicas in the master's INFO, so they must be attached before it first asks.
    for (const replica of servers.slice(1)) await untilReplicaOf(replica, first, deadline);
    const quorum = sentinelCount === 1 ? 1 : Math.floor(sentinelCount / 2) + 1;
    for (let i = 0; i < sentinelCount; i++) sentinels.push(await spawnSentinel(first, name, quorum));
    const group = createGroup(name, servers, sentinels, stop);
    await untilSentinelsReady(group, deadline);
    return group;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The handle over started servers and sentinels; `current` follows failovers. */
function createGroup(
  name: string,
  servers: RedisServer[],
  sentinels: RedisServer[],
  stop: () => Promise<void>,
): RedisSentinelGroup {
  let current = servers[0]!;
  const group: RedisSentinelGroup = {
    url: `redis://${sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(',')}?sentinelMaster=${name}`,
    name,
    master: () => current,
    async refreshMaster() {
      const address = await masterAddress(sentinels[0]!, name);
      const found = servers.find((server) => server.port === address?.port);
      if (found === undefined)
        throw new Error(`Sentinel ${sentinels[0]!.port} gives no known master: ${address?.port}`);
      current = found;
      return current;
    },
    servers,
    sentinels,
    async failover(options = {}) {
      const mode = options.mode ?? 'kill';
      const restartOldMaster = options.restartOldMaster ?? true;
      const timeoutMs = options.timeoutMs ?? 30_000;
      if (servers.length < 2)
        throw new Error('failover() needs a replica: startSentinelGroup({ replicas: 1 })');
      // Ask rather than trust `current`: Sentinel may have failed over on its own since.
      const previous = await group.refreshMaster();
      const startedAt = Date.now();
      const deadline = startedAt + timeoutMs;
      let diedAt: number | undefined;
      if (mode === 'kill') {
        await previous.kill();
        diedAt = performance.now();
      } else await requestFailover(sentinels[0]!, name, deadline);
      const promoted = await untilPromoted(group, previous, deadline);
      current = promoted;
      const promotedAfterMs = Date.now() - startedAt;
      const died = diedAt === undefined ? {} : { diedAt };
      if (!restartOldMaster) return { previous, promoted, promotedAfterMs, ...died };
      if (mode === 'kill') await previous.restart();
      await untilReplicaOf(previous, promoted, deadline, { sentinels, name });
      return { previous, promoted, promotedAfterMs, rejoinedAfterMs: Date.now() - startedAt, ...died };
    },
    stop,
  };
  return group;
}

/** Sends SENTINEL FAILOVER, retrying while the sentinel has no replica it trusts yet. */
async function requestFailover(sentinel: RedisServer, name: string, deadline: number): Promise<void> {
  const what = `sentinel ${sentinel.port} to accept SENTINEL FAILOVER ${name}`;
  const reply = await pollUntil(what, deadline, async (saw) => {
    const answer = await sendCommand(sentinel.port, ['SENTINEL', 'FAILOVER', name]);
    saw(answer);
    return answer.startsWith('-NOGOODSLAVE') ? undefined : answer;
  });
  if (reply !== '+OK')
    throw new Error(`SENTINEL FAILOVER ${name} on port ${sentinel.port} answered ${reply}`);
}
