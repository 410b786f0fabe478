import type { RedisClient, RedisConnection } from '@redis-patterns/connection';
import { closeSubscriber, subscribeCancels } from './commands/index.js';
import type { QueueKeys } from './keys.js';

/**
 * A worker's ear for `queue.cancel(id)`: one subscriber connection from start to stop. A message
 * lost while it reconnects is not a lost cancellation: the next lease renewal (every leaseMs / 3)
 * reports the job's cancel mark too.
 */
export class Cancellations {
  readonly #conn: RedisConnection;
  readonly #keys: QueueKeys;
  readonly #onCancel: (id: string) => void;
  #subscriber: Promise<RedisClient | undefined> | undefined;

  constructor(conn: RedisConnection, keys: QueueKeys, onCancel: (id: string) => void) {
    this.#conn = conn;
    this.#keys = keys;
    this.#onCancel = onCancel;
  }

  /** Subscribes; resolves once subscribed (or given up, within the connection's bound). */
  async open(): Promise<void> {
    this.#subscriber ??= subscribeCancels(this.#conn, this.#keys, (id) => this.#onCancel(id));
    await this.#subscriber;
  }

  /** Closes the subscriber; resolves once its socket is closed (or destroyed). */
  async close(): Promise<void> {
    const opening = this.#subscriber;
    this.#subscriber = undefined;
    const subscriber = await opening;
    if (subscriber !== undefined) await closeSubscriber(this.#conn, subscriber);
  }
}
