import type { RedisConnection } from '@redis-patterns/connection';
import { scripts } from '../lua.generated.js';
import type { UserIndex } from './user-index.js';

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
 * update.lua, with a new binding's index entry sent alongside (ahead of it on one connection; on
 * Cluster, to another node at the same time): the script's reply. If the entry failed, a session
 * the update bound to the user is destroyed (`destroy`) before the error is thrown.
 */
export async function writeThenIndex(
  conn: RedisConnection,
  index: UserIndex,
  write: {
    key: string;
    args: string[];
    handle: string;
    binding: string | undefined;
    cap: string | undefined;
  },
  destroy: () => Promise<unknown>,
): Promise<Array<number | string>> {
  const { key, args, handle, binding, cap } = write;
  const indexed = binding === undefined ? undefined : index.add(binding, handle, undefined, cap);
  const written = conn.runScript<Array<number | string>>(scripts.update, [key], args);
  const [added, update] = await Promise.allSettled([indexed, written]);
  if (update.status === 'rejected') throw update.reason;
  if (added.status === 'rejected') {
    // Bound to a user but missing from the user's index: the session must not stay.
    if (update.value[0] === 1) await destroy();
    throw added.reason;
  }
  return update.value;
}
