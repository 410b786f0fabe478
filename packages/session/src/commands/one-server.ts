import type { RedisConnection } from '@redis-patterns/connection';

/**
 * Whether a session and its user's index entry, two keys in different slots, can be written by one
 * script: on a single server (standalone, Sentinel), until that server refuses keys of two slots
 * in one script (CROSSSLOT: a sharding proxy behind one endpoint, such as the cluster-unaware API
 * of a managed service). From then on, bindings take the two-command path, as on Cluster.
 */
export class OneServer {
  #holdsBoth: boolean;

  constructor(conn: RedisConnection) {
    this.#holdsBoth = conn.topology !== 'cluster';
  }

  get holdsBoth(): boolean {
    return this.#holdsBoth;
  }

  /** `run`'s reply, or undefined when it was refused as CROSSSLOT (before it ran: nothing written). */
  async run<T>(run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('CROSSSLOT'))) throw err;
      this.#holdsBoth = false;
      return undefined;
    }
  }
}

/**
 * A write sent together with its binding's index entry (ahead of it on one connection; on Cluster,
 * to another node at the same time): the write's reply. If the entry failed, a session the write
 * bound (reply status 1) is destroyed (`destroy`) before the entry's error is thrown: a session
 * bound to a user but missing from the user's index must not stay.
 */
export async function withIndexEntry<R extends ReadonlyArray<number | string>>(
  indexed: Promise<void> | undefined,
  written: Promise<R>,
  destroy: () => Promise<unknown>,
): Promise<R> {
  const [added, write] = await Promise.allSettled([indexed, written]);
  if (write.status === 'rejected') throw write.reason;
  if (added.status === 'rejected') {
    if (write.value[0] === 1) await destroy();
    throw added.reason;
  }
  return write.value;
}
