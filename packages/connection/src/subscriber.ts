import type { RedisClient, RedisConnection } from './types.js';

/*
 * A subscriber connection for a pattern's pub/sub (the lock's release wake-ups, the queue's
 * cancellations): a connected duplicate of the user's client, cluster or sentinel alike, since a
 * subscribed connection can run nothing else. Its errors only cost messages, which every caller
 * covers another way (polling, renewals), so they are never left unhandled.
 */

/** A connected duplicate of `conn`'s client, or undefined if it could not connect within the connection's bound. */
export async function openSubscriber(conn: RedisConnection, what: string): Promise<RedisClient | undefined> {
  const subscriber = conn.client.duplicate() as RedisClient;
  subscriber.on('error', () => {});
  try {
    await conn.bounded(subscriber.connect(), undefined, `connecting the ${what}`);
    return subscriber;
  } catch {
    destroy(subscriber);
    return undefined;
  }
}

/** Closes the subscriber within the connection's bound, or destroys it. */
export async function closeSubscriber(
  conn: RedisConnection,
  subscriber: RedisClient,
  what: string,
): Promise<void> {
  await conn.bounded(subscriber.close(), undefined, `closing the ${what}`).catch(() => destroy(subscriber));
}

function destroy(subscriber: RedisClient): void {
  try {
    subscriber.destroy();
  } catch {
    // never connected, or gone already
  }
}
