/**
 * The subscriber of release messages: a connection of its own (a subscribed connection can run
 * nothing else) on which SSUBSCRIBE listens to each lock's `:released` channel. Sharded pub/sub
 * (Redis >= 7) keeps each channel in its lock's hash slot, so on Cluster the node that owns the
 * lock publishes and delivers its messages. Which channels are listened to, and for how long the
 * subscriber stays open, is decided in wakeups.ts.
 */
import type { RedisClient, RedisConnection } from '@redis-patterns/connection';

/** Receives each message of a subscribed channel: the releasing instance's id, and the channel. */
export type ReleaseListener = (message: string, channel: string) => void;

/**
 * A connected duplicate of the user's client (cluster or sentinel alike), or undefined if it could
 * not connect within the connection's bound.
 */
export async function openSubscriber(conn: RedisConnection): Promise<RedisClient | undefined> {
  const subscriber = conn.client.duplicate() as RedisClient;
  // Errors of the subscriber only cost wake-ups (polling covers them): never let them go unhandled.
  subscriber.on('error', () => {});
  try {
    await conn.bounded(subscriber.connect(), undefined, 'connecting the lock subscriber');
    return subscriber;
  } catch {
    try {
      subscriber.destroy();
    } catch {
      // never connected
    }
    return undefined;
  }
}

/** SSUBSCRIBE `channel`, delivering its messages to `listener`; bounded like any command. */
export async function shardSubscribe(
  conn: RedisConnection,
  subscriber: RedisClient,
  channel: string,
  listener: ReleaseListener,
): Promise<void> {
  await conn.bounded(subscriber.sSubscribe(channel, listener), undefined, 'SSUBSCRIBE');
}

/** SUNSUBSCRIBE `listener` from `channel`; bounded like any command. */
export async function shardUnsubscribe(
  conn: RedisConnection,
  subscriber: RedisClient,
  channel: string,
  listener: ReleaseListener,
): Promise<void> {
  await conn.bounded(subscriber.sUnsubscribe(channel, listener), undefined, 'SUNSUBSCRIBE');
}

/** Closes the subscriber within the connection's bound, or destroys it. */
export async function closeSubscriber(conn: RedisConnection, subscriber: RedisClient): Promise<void> {
  await conn.bounded(subscriber.close(), undefined, 'closing the lock subscriber').catch(() => {
    try {
      subscriber.destroy();
    } catch {
      // already gone
    }
  });
}
