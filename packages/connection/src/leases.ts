import { openClient } from './clients.js';
import { ClosedError, ConnectionError, TimeoutError } from './errors.js';
import { slotOf } from './keys.js';
import { NodePool } from './pool.js';
import type {
  DedicatedConnection,
  RedisClient,
  RedisCluster,
  RedisConnection,
  RedisSentinel,
  Topology,
} from './types.js';

/** What the leases need from their connection. */
export interface LeaseHost {
  topology: Topology;
  raw: RedisClient | RedisCluster | RedisSentinel;
  bounded: RedisConnection['bounded'];
  isClosed(): boolean;
  onError(err: Error): void;
  connectTimeoutMs: number;
  /** How long a caller waits for a free pooled connection. */
  acquireTimeoutMs: number;
  isolationPoolSize: number;
  blockingPoolSize: number;
  /** A client to a Sentinel's master at this address, when the connection made the sentinel. */
  sentinelNode: ((host: string, port: number) => RedisClient) | undefined;
  /** Why the node is unreachable, if its socket is known to be down (fail fast rather than wait). */
  unreachable(key: string): ConnectionError | undefined;
}

interface Lease {
  client: RedisClient;
  release(): void;
  discard(): void;
}

/**
 * Dedicated connections, pooled per node: isolated ones for WATCH/MULTI/EXEC (a WATCH belongs to a
 * socket) and blocking ones (BLMOVE). Every client opened here has node-redis's offline queue off,
 * and none is behind a Cluster or Sentinel client that would resend a command to another node after
 * a redirect or a failover: a command either goes to the node it was meant for, now, or fails.
 */
export class Leases {
  readonly #host: LeaseHost;
  readonly #isolation = new Map<string, NodePool<RedisClient>>();
  readonly #blocking = new Map<string, NodePool<RedisClient>>();

  constructor(host: LeaseHost) {
    this.#host = host;
  }

  async isolated<T>(key: string, fn: (client: RedisClient) => Promise<T>): Promise<T> {
    const lease = await this.#lease(this.#isolation, key, this.#host.isolationPoolSize);
    let healthy = true;
    try {
      return await fn(lease.client);
    } catch (err) {
      healthy = !(
        err instanceof TimeoutError ||
        err instanceof ConnectionError ||
        err instanceof ClosedError
      );
      throw err;
    } finally {
      if (healthy) await clearWatch(lease.client, this.#host.bounded).catch(() => (healthy = false));
      if (healthy) lease.release();
      else lease.discard();
    }
  }

  async dedicated(key: string): Promise<DedicatedConnection> {
    const lease = await this.#lease(this.#blocking, key, this.#host.blockingPoolSize);
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      lease.release();
    };
    const destroy = () => {
      if (done) return;
      done = true;
      lease.discard();
    };
    return { client: lease.client, release, destroy, [Symbol.asyncDispose]: async () => release() };
  }

  async close(): Promise<void> {
    const pools = [...this.#isolation.values(), ...this.#blocking.values()];
    await Promise.allSettled(pools.map((p) => p.close()));
  }

  async #lease(pools: Map<string, NodePool<RedisClient>>, key: string, size: number): Promise<Lease> {
    const host = this.#host;
    if (host.isClosed()) throw new ClosedError();
    const down = host.unreachable(key);
    if (down !== undefined) throw down;
    if (host.topology === 'sentinel' && host.sentinelNode === undefined) return this.#sentinelLease();
    const node = await this.#nodeFor(key);
    let pool = pools.get(node.id);
    if (pool === undefined) {
      pool = new NodePool(
        () => openClient(node.make, host.onError, host.connectTimeoutMs).then(guardTransactions),
        size,
        `Redis node ${node.id}`,
      );
      pools.set(node.id, pool);
    }
    const client = await pool.acquire(host.acquireTimeoutMs);
    const from = pool;
    return { client, release: () => from.release(client), discard: () => from.discard(client) };
  }

  async #nodeFor(key: string): Promise<{ id: string; make: () => RedisClient }> {
    const { topology, raw } = this.#host;
    const fresh = (source: RedisClient) => () =>
      source.duplicate({ disableOfflineQueue: true }) as RedisClient;
    if (topology === 'cluster') {
      const cluster = raw as RedisCluster;
      const master = cluster.slots[slotOf(key)]?.master;
      if (master === undefined) throw new ConnectionError(`No Cluster master owns the slot of "${key}" yet.`);
      const nodeClient = (await cluster.nodeClient(master)) as RedisClient;
      return { id: `${master.host}:${master.port}`, make: fresh(nodeClient) };
    }
    if (topology === 'sentinel') {
      const master = (raw as RedisSentinel).getMasterNode();
      if (master === undefined) throw new ConnectionError('Sentinel has not reported a master yet.');
      const sentinelNode = this.#host.sentinelNode as (host: string, port: number) => RedisClient;
      return { id: `${master.host}:${master.port}`, make: () => sentinelNode(master.host, master.port) };
    }
    return { id: 'standalone', make: fresh(raw as RedisClient) };
  }

  /**
   * A Sentinel passed in by the caller: a lease from its own master pool (node-redis may resend a
   * command on it to a new master after a failover), given back either way.
   */
  async #sentinelLease(): Promise<Lease> {
    const { raw, bounded, acquireTimeoutMs } = this.#host;
    const pending = (raw as RedisSentinel).acquire() as unknown as Promise<RedisClient & { release(): void }>;
    const leased = await bounded(
      pending,
      acquireTimeoutMs,
      'waiting for a dedicated Sentinel connection',
    ).catch((err: unknown) => {
      // Timed out: give the lease back whenever it arrives, so the sentinel pool does not shrink.
      pending.then(
        (late) => late.release(),
        () => {},
      );
      throw err;
    });
    return { client: leased, release: () => leased.release(), discard: () => leased.release() };
  }
}

/**
 * node-redis queues a MULTI/EXEC on a socket that is not ready (its offline-queue switch only covers
 * single commands) and writes it once the socket is back: after a failed WATCH, that would run the
 * transaction unwatched. A transaction on a dedicated connection whose socket is down fails at once.
 */
function guardTransactions(client: RedisClient): RedisClient {
  const multi = client.multi.bind(client);
  client.multi = (() => {
    const transaction = multi();
    const exec = transaction.exec.bind(transaction);
    transaction.exec = ((...args: Parameters<typeof exec>) =>
      client.isReady
        ? exec(...args)
        : Promise.reject(
            new ConnectionError('EXEC was not sent: the dedicated connection is reconnecting.'),
          )) as typeof exec;
    return transaction;
  }) as typeof client.multi;
  return client;
}

async function clearWatch(client: RedisClient, bounded: RedisConnection['bounded']): Promise<void> {
  // A Sentinel lease does not say whether it watches: clear it unconditionally there.
  if (client.isWatching !== false || client.isDirtyWatch)
    await bounded(client.unwatch(), undefined, 'UNWATCH');
}
