/**
 * The order of an `acquireAll()`: its names grouped by hash slot in the canonical order every
 * caller takes them in, and the line its waiting callers stand in within one process.
 */
import {
  InvalidArgumentError,
  type Keyspace,
  type RedisConnection,
  slotOf,
} from '@redis-patterns/connection';
import { type LockKeys, lockKeys } from './commands/index.js';

/** Names of one hash slot, taken together by one script. */
export interface NameGroup {
  names: string[];
  keys: LockKeys[];
}

/**
 * The groups, in the canonical order every caller takes them in. On Cluster one group per hash
 * slot (a script's keys must share one), by ascending slot. On a single server one group: one
 * script takes every name at once. (Not `groupBySlot`, whose grouping of a single server's keys
 * follows the commands in flight: the order must be the same for every caller, every time.)
 * Duplicates are dropped; bad names throw `InvalidArgumentError`.
 */
export function planGroups(conn: RedisConnection, keyspace: Keyspace, names: readonly string[]): NameGroup[] {
  if (!Array.isArray(names) || names.length === 0) {
    throw new InvalidArgumentError('names', 'expected a non-empty array of lock names.');
  }
  const unique = [...new Set(names)].sort();
  const cluster = conn.topology === 'cluster';
  const bySlot = new Map<number, NameGroup>();
  for (const name of unique) {
    const keys = lockKeys(keyspace, name);
    const slot = cluster ? slotOf(keys.lock) : 0;
    const group = bySlot.get(slot) ?? { names: [], keys: [] };
    bySlot.set(slot, group);
    group.names.push(name);
    group.keys.push(keys);
  }
  return [...bySlot.entries()].sort(([a], [b]) => a - b).map(([, group]) => group);
}

/** What the line needs of one waiting `acquireAll()`. */
export interface LineRun {
  /** The names of the group it wants now (undefined once it wants nothing more). */
  wanted: ReadonlySet<string> | undefined;
  /** Wakes its sleep, so that it looks again. */
  wake(): void;
}

/**
 * The `acquireAll()` calls of one lock instance that wait or are on their way, oldest first. A call
 * attempts a group only if no older call of the line wants one of its names: with 50 callers waiting
 * for overlapping names, a release lets the oldest of them try, not all 50 (a herd of refused
 * scripts). It also serves the callers of one process in arrival order. The line cannot deadlock
 * with the slot order: a call waits behind an older one only for names of the same slot, and
 * behind a holder only for a slot higher than any it holds, so a cycle would need an older call
 * than every call in it.
 */
export class WaitingLine<R extends LineRun> {
  readonly #runs: R[] = [];

  /** True if an older call of the line wants one of `names`: `run` waits for it here. */
  behind(run: R, names: readonly string[]): boolean {
    for (const other of this.#runs) {
      if (other === run) return false;
      const wanted = other.wanted;
      if (wanted !== undefined && names.some((n) => wanted.has(n))) return true;
    }
    return false;
  }

  /**
   * `run` takes its place, from its first attempt on: a later call for the same names waits behind
   * it even while that attempt is on its way, so calls are served in the order they were made.
   */
  join(run: R): void {
    if (!this.#runs.includes(run)) this.#runs.push(run);
  }

  /**
   * `run` took a group (`leave` false: it now wants the next one) or is done, and no longer wants
   * `names`: the calls that wanted one of them (those that may wait behind it) look again.
   */
  moved(run: R, leave: boolean, names: ReadonlySet<string> | undefined): void {
    const at = this.#runs.indexOf(run);
    if (at < 0) return;
    if (leave) this.#runs.splice(at, 1);
    if (names === undefined) return;
    for (const other of this.#runs) {
      const wanted = other.wanted;
      if (other === run || wanted === undefined) continue;
      for (const name of names) {
        if (wanted.has(name)) {
          other.wake();
          break;
        }
      }
    }
  }
}
