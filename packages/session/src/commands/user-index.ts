import type { RedisConnection } from '@redis-patterns/connection';
import { USER_INDEX_PREFIX } from '../codec.js';
import { scripts } from '../lua.generated.js';
import type { ResolvedOptions } from '../options.js';

/**
 * Each user's index: a sorted set of the handles of the user's sessions, scored past each session's
 * absolute end (see index.ts for the order of writes that keeps it complete).
 */
export class UserIndex {
  readonly #conn: RedisConnection;
  readonly #opts: ResolvedOptions;
  readonly #absoluteTtl: string;

  constructor(opts: ResolvedOptions) {
    this.#conn = opts.conn;
    this.#opts = opts;
    this.#absoluteTtl = String(opts.absoluteTtlMs);
  }

  readonly key = (userId: string): string => this.#opts.keys.key(`${USER_INDEX_PREFIX}${userId}`);

  /** Adds a handle to its user's index, scored past the session's absolute end (`cap`: its lifetime). */
  async add(userId: string, handle: string, absoluteAt?: number, cap = this.#absoluteTtl): Promise<void> {
    const args = [handle, absoluteAt === undefined ? '' : String(absoluteAt), cap];
    await this.#conn.runScript(scripts.indexAdd, [this.key(userId)], args);
  }

  async remove(userId: string, handle: string): Promise<void> {
    const key = this.key(userId);
    await this.#conn.send(['ZREM', key, handle], { key });
  }

  /**
   * Removes an index entry of a session that is gone without waiting for it: an entry left behind
   * (the removal failed) is harmless (see index.ts), and the caller's answer does not wait a round trip.
   */
  forget(userId: string, handle: string): void {
    this.remove(userId, handle).catch(() => {});
  }

  async has(userId: string, handle: string): Promise<boolean> {
    const key = this.key(userId);
    return (await this.#conn.send(['ZSCORE', key, handle], { key, readonly: true })) !== null;
  }

  /** The handles in the user's index, pruned of those past their absolute expiry. */
  list(userId: string): Promise<string[]> {
    return this.#conn.runScript<string[]>(scripts.indexList, [this.key(userId)], []);
  }

  /** Takes every handle but `exceptHandle` out of the user's index (destroyAllForUser's first half). */
  take(userId: string, exceptHandle: string | undefined): Promise<string[]> {
    return this.#conn.runScript<string[]>(scripts.indexTake, [this.key(userId)], [exceptHandle ?? '']);
  }
}
