import type { RedisClient, RedisConnection } from '@redis-patterns/connection';
import type { QueueKeys } from '../keys.js';

// The cancel subscriber: a connection of its own (a subscribed connection runs nothing else) on
// which SSUBSCRIBE listens to the queue's cancel channel. Sharded pub/sub (Redis >= 7) keeps the
// channel in the queue's hash slot, so on Cluster the node that runs cancel.lua delivers it.

/** A connected duplicate of the user's client, subscribed to the cancel channel; undefined if that failed within the bound. */
export async function subscribeCancels(
  conn: RedisConnection,
  keys: QueueKeys,
  onCancel: (id: string) => void,
): Promise<RedisClient | undefined> {
  const subscriber = conn.client.duplicate() as RedisClient;
  // Its errors only delay cancellations (renewals report them too): never let them go unhandled.
  subscriber.on('error', () => {});
  try {
    await conn.bounded(subscriber.connect(), undefined, 'connecting the cancel subscriber');
    await conn.bounded(subscriber.sSubscribe(keys.cancelChannel, onCancel), undefined, 'SSUBSCRIBE');
    return subscriber;
  } catch {
    await closeSubscriber(conn, subscriber);
    return undefined;
  }
}

/** Closes the subscriber within the connection's bound, or destroys it. */
export async function closeSubscriber(conn: RedisConnection, subscriber: RedisClient): Promise<void> {
  await conn.bounded(subscriber.close(), undefined, 'closing the cancel subscriber').catch(() => {
    try {
      subscriber.destroy();
    } catch {
      // never connected, or gone already
    }
  });
}
