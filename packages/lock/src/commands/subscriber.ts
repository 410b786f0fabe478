/**
 * The subscriber of release messages: a connection of its own (a subscribed connection can run
 * nothing else) on which SSUBSCRIBE listens to each lock's `:released` channel. Sharded pub/sub
 * (Redis >= 7) keeps each channel in its lock's hash slot, so on Cluster the node that owns the
 * lock publishes and delivers its messages. Which channels are listened to, and for how long the
 * subscriber stays open, is decided in wakeups.ts.
 */
import type { RedisClient, RedisConnection } from '@redis-patterns/connection';
import {
  closeSubscriber as closeSharedSubscriber,
  openSubscriber as openSharedSubscriber,
} from '@redis-patterns/connection/internal';

/** Receives each message of a subscribed channel: the releasing instance's id, and the channel. */
export type ReleaseListener = (message: string, channel: string) => void;

/** The subscriber connection (connection's shared one), or undefined if it could not connect in time. */
export function openSubscriber(conn: RedisConnection): Promise<RedisClient | undefined> {
  return openSharedSubscriber(conn, 'lock subscriber');
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
export function closeSubscriber(conn: RedisConnection, subscriber: RedisClient): Promise<void> {
  return closeSharedSubscriber(conn, subscriber, 'lock subscriber');
}
