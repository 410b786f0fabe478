import { ConnectionError, type RedisConnection, TimeoutError } from '@redis-patterns/connection';
import { type LockKeys, releaseIfOwner } from './commands/index.js';

/** Retry delays while Redis does not answer: doubling from the first, capped at the last. */
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 1_000;

/**
 * Grants that nobody holds, taken back as soon as Redis answers: an acquire whose outcome is
 * unknown (it timed out or the connection dropped after it was written), a release that could not
 * reach Redis. Each is a compare-and-delete by owner id (it never touches another owner's lock),
 * sent on the socket of the command it cleans up after, so Redis runs it after that command; it is
 * retried while Redis does not answer, until the grant would have expired anyway.
 */
export class GiveBacks {
  readonly #conn: RedisConnection;
  readonly #instance: string;
  readonly #pending = new Set<string>();

  constructor(conn: RedisConnection, instance: string) {
    this.#conn = conn;
    this.#instance = instance;
  }

  /** Takes back `owner`'s grant of `keys`, trying until `performance.now()` reaches `until`. */
  add(keys: LockKeys, owner: string, until: number): void {
    if (this.#pending.has(owner)) return;
    this.#pending.add(owner);
    void this.#run(keys, owner, until).finally(() => this.#pending.delete(owner));
  }

  /** How many grants are still being taken back. */
  get size(): number {
    return this.#pending.size;
  }

  async #run(keys: LockKeys, owner: string, until: number): Promise<void> {
    for (let delay = FIRST_RETRY_MS; performance.now() < until; delay = Math.min(delay * 2, MAX_RETRY_MS)) {
      try {
        await releaseIfOwner(this.#conn, keys, owner, this.#instance);
        return;
      } catch (err) {
        // Anything but "Redis did not answer" (the connection was closed, a script error) ends it.
        if (!(err instanceof TimeoutError || err instanceof ConnectionError)) return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  }
}
