import type { RedisClient, RedisCluster, RedisConnection } from '@redis-patterns/connection';
import { onceClosed } from '@redis-patterns/connection/internal';
import { trackBroadcast } from './commands/index.js';
import type { NearCache } from './near-cache.js';

/** Keeps the near cache coherent; `stop()` closes the tracking connections. */
export interface Tracking {
  stop(): Promise<void>;
}

/** How often a Cluster's master list is compared with the tracked nodes (local state, no round trip). */
const TOPOLOGY_CHECK_MS = 1_000;

/**
 * Server-assisted client tracking in broadcast mode: one RESP3 connection per master runs
 * `CLIENT TRACKING ON BCAST PREFIX <entries> PREFIX <tags>`, so the server pushes the name of every
 * key written, deleted, expired or evicted under those prefixes, by any client. BCAST needs no
 * per-key bookkeeping on the server and does not touch the connection that serves reads.
 *
 * The near cache serves only while every master's tracking connection is subscribed; a drop, a
 * reconnect or a change of masters flushes it, because invalidations may have been missed meanwhile.
 */
export function startTracking(
  conn: RedisConnection,
  prefixes: string[],
  near: NearCache,
  onError: (err: unknown) => void,
): Tracking {
  const trackers = new Map<string, RedisClient>();
  // CLIENT LIST shows which cache a tracking connection serves.
  const name = `cache-aside-tracking:${prefixes[0] ?? ''}`.replace(/[^\w:.-]/g, '_').slice(0, 120);
  const ready = new Set<string>();
  let stopped = false;

  const refreshLive = () => near.setLive(!stopped && trackers.size > 0 && ready.size === trackers.size);

  const track = (id: string, source: RedisClient) => {
    const client = source.duplicate({ RESP: 3, emitInvalidate: true, name }) as RedisClient;
    trackers.set(id, client);
    client.on('invalidate', (key: unknown) => {
      if (key === null) near.flush();
      else near.invalidate(String(key));
    });
    client.on('error', (err: Error) => {
      if (ready.delete(id)) refreshLive();
      onError(err);
    });
    client.on('end', () => {
      if (ready.delete(id)) refreshLive();
    });
    client.on('ready', () => {
      trackBroadcast(conn, client, prefixes)
        .then(() => {
          if (stopped || trackers.get(id) !== client) return;
          ready.add(id);
          refreshLive();
        })
        .catch((err: unknown) => {
          onError(err);
          // Forget it too, so the next topology check retries instead of keeping the near cache off.
          if (trackers.get(id) === client) untrack(id);
          else client.destroy();
        });
    });
    client.connect().catch(onError);
  };

  const untrack = (id: string) => {
    const client = trackers.get(id);
    trackers.delete(id);
    ready.delete(id);
    if (client !== undefined) void client.close().catch(() => client.destroy());
  };

  const raw = conn.client as unknown as Partial<RedisCluster> & { duplicate?: unknown };
  let timer: NodeJS.Timeout | undefined;
  if (raw.masters !== undefined && typeof raw.nodeClient === 'function') {
    const cluster = conn.client as unknown as RedisCluster;
    const sync = async () => {
      const masters = new Map(cluster.masters.map((m) => [`${m.host}:${m.port}`, m]));
      let changed = false;
      for (const id of [...trackers.keys()]) {
        if (!masters.has(id)) {
          untrack(id);
          changed = true;
        }
      }
      for (const [id, master] of masters) {
        if (trackers.has(id)) continue;
        const nodeClient = (await cluster.nodeClient(master)) as RedisClient;
        // Re-checked after the await: stop() may have run, or the node may be tracked meanwhile.
        if (stopped || trackers.has(id)) continue;
        changed = true;
        track(id, nodeClient);
      }
      if (changed) refreshLive();
    };
    // One sync at a time: nodeClient() can outlast the interval, and overlapping syncs would open
    // (and leak) a second tracking connection for the same master.
    let syncing = false;
    const run = () => {
      if (syncing) return;
      syncing = true;
      sync()
        .catch(onError)
        .finally(() => {
          syncing = false;
        });
    };
    run();
    timer = setInterval(run, TOPOLOGY_CHECK_MS);
    timer.unref();
  } else if (typeof raw.duplicate === 'function' && !('getMasterNode' in raw)) {
    track('standalone', conn.client);
  } else {
    onError(new Error('The near cache needs a node-redis client or cluster; it stays off for Sentinel.'));
  }

  const stop = async () => {
    stopped = true;
    stopListening();
    clearInterval(timer);
    for (const id of [...trackers.keys()]) untrack(id);
    near.setLive(false);
  };
  // The tracking connections end with the client they duplicate, so closing that client (or the
  // connection made by connect()) lets the process exit even if the cache itself was never closed.
  const stopListening = onceClosed(conn.client, conn.topology, () => void stop());
  return { stop };
}
