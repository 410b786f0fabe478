import type { RedisClient, RedisConnection } from '@redis-patterns/connection';
import {
  closeSubscriber as closeSharedSubscriber,
  openSubscriber,
} from '@redis-patterns/connection/internal';
import type { QueueKeys } from '../keys.js';

// The cancel subscriber: the connection's shared subscriber connection, on which SSUBSCRIBE listens
// to the queue's cancel channel. Sharded pub/sub (Redis >= 7) keeps the channel in the queue's hash
// slot, so on Cluster the node that runs cancel.lua delivers it.

/** A subscriber connection listening to the cancel channel; undefined if that failed within the bound. */
export async function subscribeCancels(
  conn: RedisConnection,
  keys: QueueKeys,
  onCancel: (id: string) => void,
): Promise<RedisClient | undefined> {
  const subscriber = await openSubscriber(conn, 'cancel subscriber');
  if (subscriber === undefined) return undefined;
  try {
    await conn.bounded(subscriber.sSubscribe(keys.cancelChannel, onCancel), undefined, 'SSUBSCRIBE');
    return subscriber;
  } catch {
    await closeSubscriber(conn, subscriber);
    return undefined;
  }
}

/** Closes the subscriber within the connection's bound, or destroys it. */
export function closeSubscriber(conn: RedisConnection, subscriber: RedisClient): Promise<void> {
  return closeSharedSubscriber(conn, subscriber, 'cancel subscriber');
}
