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
