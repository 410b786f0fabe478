import { packByTag, TickBatcher } from './batch.js';
import { checkInteger } from './options.js';
import type { Script } from './scripts.js';
import type { RedisConnection } from './types.js';

/**
 * What a pattern declares to have its calls batched by a {@link ScriptBatcher}: the script for one
 * call and the one for many, the key of a call, and how to read a call's value from a reply.
 */
export interface ScriptBatch<C, V> {
  /** Runs one call alone. Its reply is laid out as the batch script's reply for that one call. */
  single: Script;
  /** Runs many calls whose keys share one hash slot, in order, in one script call. */
  batch: Script;
  /** Most calls in one batch script call (a long script holds up every other client of Redis). */
  max: number;
  /** The key of a call: it routes the call, and keeps the calls of one hash tag together and in order. */
  keyOf(call: C): string;
  /**
   * KEYS and ARGV of one script call for `calls`: one call for the single script, several for the
   * batch script (`many` tells which).
   */
  argsOf(calls: readonly C[], many: boolean): { keys: string[]; args: string[] };
  /** Reply layout: `first` values shared by every call (a server time, say), then `slots` per call. */
  layout: { first: number; slots: number };
  /** A call's value, its slots starting at `reply[at]` (a single script may also reply `null`). */
  decode(reply: readonly unknown[] | null, at: number, call: C): V;
  /** Calls of different groups never share a script call (they pass different shared ARGV). */
  groupOf?(call: C): string;
  /** The scripts only read (they may go to any socket, or a replica). @default false */
  readonly?: boolean;
  /** The bound of a script call, or undefined for the connection's `commandTimeoutMs`. */
  timeoutMs?(calls: readonly C[]): number | undefined;
  /**
   * When calls are gathered: `'busy'` sends a call at once while none of this batcher's script calls
   * is in flight, and gathers the calls of one tick only while some are (batching costs nothing at
   * low load); `'tick'` always gathers the calls of one tick. @default 'busy'
   */
  gather?: 'busy' | 'tick';
}

interface Pending<C, V> {
  call: C;
  resolve(value: V): void;
  reject(err: unknown): void;
}

/**
 * Batches a pattern's script calls: calls made in the same tick share script calls, one per group
 * and hash slot, at most `max` calls each, the calls of one hash tag together and in call order.
 * A call that Redis refused inside the batch script (an error reply in its first slot, from the
 * script's `pcall`) fails alone, as it would have unbatched; a failed script call fails all of its
 * calls.
 *
 * @example
 * ```ts
 * const reads = new ScriptBatcher(redis, {
 *   single: readOne, batch: readMany, max: 25,
 *   keyOf: (key: string) => key,
 *   argsOf: (keys) => ({ keys: [...keys], args: [] }),
 *   layout: { first: 0, slots: 1 },
 *   decode: (reply, at) => reply[at] as string | null,
 *   readonly: true,
 * });
 * const value = await reads.call('user:42');
 * ```
 */
export class ScriptBatcher<C, V> {
  readonly #conn: RedisConnection;
  readonly #spec: ScriptBatch<C, V>;
  readonly #ticks: TickBatcher<Pending<C, V>>;

  constructor(conn: RedisConnection, spec: ScriptBatch<C, V>) {
    checkInteger('max', spec.max, 1);
    this.#conn = conn;
    this.#spec = spec;
    this.#ticks = new TickBatcher((pending, track) => this.#flush(pending, track), {
      immediateWhenIdle: (spec.gather ?? 'busy') === 'busy',
    });
  }

  /** Runs `call` in the next script call of its group and slot; resolves with its decoded value. */
  call(call: C): Promise<V> {
    return new Promise((resolve, reject) => this.#ticks.add({ call, resolve, reject }));
  }

  #flush(pending: Pending<C, V>[], track: (call: Promise<unknown>) => void): void {
    if (pending.length === 1) {
      this.#send(pending, track);
      return;
    }
    const { groupOf, keyOf, max } = this.#spec;
    const key = (p: Pending<C, V>) => keyOf(p.call);
    for (const group of groupOf === undefined ? [pending] : byGroup(pending, groupOf))
      for (const slot of this.#conn.groupBySlot(group, key))
        for (const batch of packByTag(slot, key, max)) this.#send(batch, track);
  }

  #send(pending: Pending<C, V>[], track: (call: Promise<unknown>) => void): void {
    const spec = this.#spec;
    const many = pending.length > 1;
    const calls = pending.map((p) => p.call);
    const { keys, args } = spec.argsOf(calls, many);
    const timeoutMs = spec.timeoutMs?.(calls);
    const options = { readonly: spec.readonly === true, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
    const script = many ? spec.batch : spec.single;
    const sent = this.#conn.runScript<unknown[] | null>(script, keys, args, options);
    track(sent);
    const { first, slots } = spec.layout;
    sent.then(
      (reply) => {
        for (let i = 0; i < pending.length; i++) {
          const p = pending[i] as Pending<C, V>;
          const at = first + slots * i;
          const head = reply?.[at];
          if (head instanceof Error) p.reject(head);
          else {
            try {
              p.resolve(spec.decode(reply, at, p.call));
            } catch (err) {
              p.reject(err);
            }
          }
        }
      },
      (err: unknown) => {
        for (const p of pending) p.reject(err);
      },
    );
  }
}

/** The calls of each group, groups in order of first appearance. */
function byGroup<C, V>(pending: Pending<C, V>[], groupOf: (call: C) => string): Pending<C, V>[][] {
  const groups = new Map<string, Pending<C, V>[]>();
  for (const p of pending) {
    const name = groupOf(p.call);
    const same = groups.get(name);
    if (same === undefined) groups.set(name, [p]);
    else same.push(p);
  }
  return [...groups.values()];
}
