import { tagOf } from './keys.js';
import { checkInteger } from './options.js';

/** Options of a {@link TickBatcher}. */
export interface TickBatcherOptions {
  /**
   * Send an item alone at once when none of this batcher's calls is in flight, and gather only
   * while some are (as Nagle's algorithm does): batching then costs nothing at low load.
   * @default false
   */
  immediateWhenIdle?: boolean;
}

/**
 * Gathers what callers ask for within one tick (one turn of the microtask queue) and hands it to
 * `flush` as one list, so that many callers' requests can share a round trip or one script call.
 * `flush` reports each Redis call it makes through `track`, which is how the batcher knows whether
 * calls are in flight; it should call `track` before attaching its own handlers to the call.
 *
 * @example
 * ```ts
 * const gets = new TickBatcher<{ key: string; resolve(v: string | null): void; reject(e: unknown): void }>(
 *   (items, track) => {
 *     const call = redis.send<Array<string | null>>(['MGET', ...items.map((i) => i.key)]);
 *     track(call);
 *     call.then((values) => items.forEach((item, n) => item.resolve(values[n] ?? null)),
 *       (err) => items.forEach((item) => item.reject(err)));
 *   },
 *   { immediateWhenIdle: true },
 * );
 * const value = await new Promise<string | null>((resolve, reject) => gets.add({ key: 'a', resolve, reject }));
 * ```
 */
export class TickBatcher<T> {
  readonly #flush: (items: T[], track: (call: Promise<unknown>) => void) => void;
  readonly #immediateWhenIdle: boolean;
  #pending: T[] | undefined;
  #inFlight = 0;
  readonly #track = (call: Promise<unknown>): void => {
    this.#inFlight++;
    const settled = () => {
      this.#inFlight--;
    };
    call.then(settled, settled);
  };

  constructor(
    flush: (items: T[], track: (call: Promise<unknown>) => void) => void,
    options: TickBatcherOptions = {},
  ) {
    this.#flush = flush;
    this.#immediateWhenIdle = options.immediateWhenIdle ?? false;
  }

  /** Queues `item` for this tick's flush (or flushes it alone at once; see `immediateWhenIdle`). */
  add(item: T): void {
    if (this.#pending !== undefined) {
      this.#pending.push(item);
      return;
    }
    if (this.#immediateWhenIdle && this.#inFlight === 0) {
      this.#flush([item], this.#track);
      return;
    }
    const items = [item];
    this.#pending = items;
    queueMicrotask(() => {
      this.#pending = undefined;
      this.#flush(items, this.#track);
    });
  }
}

/**
 * Packs the items of one {@link RedisConnection.groupBySlot} group into batches of at most `max`
 * for multi-key calls, keeping each hash tag's items together and in order: no tag is split over
 * two batches shared with other tags, so every batch can be sent at once without waiting on
 * another socket. A tag with more than `max` items gets batches of its own, one after another,
 * which the connection keeps in order.
 *
 * @example
 * ```ts
 * for (const group of redis.groupBySlot(checks, (c) => c.key))
 *   for (const batch of packByTag(group, (c) => c.key, 25)) sendBatch(batch);
 * ```
 */
export function packByTag<T>(items: readonly T[], keyOf: (item: T) => string, max: number): T[][] {
  // A batch size of 0 (or null, or a fraction) would never advance: refuse it.
  checkInteger('max', max, 1);
  const byTag = new Map<string, T[]>();
  for (const item of items) {
    const tag = tagOf(keyOf(item));
    const same = byTag.get(tag);
    if (same === undefined) byTag.set(tag, [item]);
    else same.push(item);
  }
  const batches: T[][] = [];
  let batch: T[] = [];
  for (const same of byTag.values()) {
    if (batch.length > 0 && batch.length + same.length > max) {
      batches.push(batch);
      batch = [];
    }
    if (same.length <= max) batch.push(...same);
    else for (let at = 0; at < same.length; at += max) batches.push(same.slice(at, at + max));
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
