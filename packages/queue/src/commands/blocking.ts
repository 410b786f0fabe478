import type { DedicatedConnection, RedisConnection } from '@redis-patterns/connection';
import type { QueueKeys } from '../keys.js';

// A worker's blocking fetch: BLMOVE on a dedicated connection, and CLIENT ID / CLIENT UNBLOCK to wake it.

/** A connection for BLMOVE, leased from the blocking pool, to the node that owns the waiting list. */
export function leaseBlockingConnection(
  conn: RedisConnection,
  keys: QueueKeys,
): Promise<DedicatedConnection> {
  return conn.dedicated(keys.waiting);
}

/** The CLIENT ID of a blocking connection, to wake it later; undefined where CLIENT is not allowed. */
export function blockingClientId(
  conn: RedisConnection,
  blocker: DedicatedConnection,
): Promise<string | undefined> {
  return conn.bounded(blocker.client.sendCommand(['CLIENT', 'ID'])).then(String, () => undefined);
}

/**
 * BLMOVE from waiting to `active` for up to `blockMs`: the id moved, or null when none came. Its
 * bound allows for the block itself on top of the command timeout.
 */
export function blockingMove(
  conn: RedisConnection,
  blocker: DedicatedConnection,
  keys: QueueKeys,
  blockMs: number,
): Promise<string | null> {
  const blmove = blocker.client.sendCommand([
    'BLMOVE',
    keys.waiting,
    keys.active,
    'RIGHT',
    'LEFT',
    String(blockMs / 1000),
  ]) as Promise<string | null>;
  return conn.bounded(blmove, blockMs + (conn.commandTimeoutMs || 5000), 'BLMOVE');
}

/** Ends the BLMOVE of client `clientId` now, as if it timed out. */
export function unblockClient(conn: RedisConnection, keys: QueueKeys, clientId: string): Promise<unknown> {
  // A connection to the node that owns the waiting key, where the blocked connection is: a Cluster
  // client would route CLIENT by its own policy, not by our key.
  return conn.isolated(keys.waiting, (client) =>
    conn.bounded(client.sendCommand(['CLIENT', 'UNBLOCK', clientId])),
  );
}
