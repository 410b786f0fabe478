import { InvalidArgumentError } from '@redis-patterns/connection';
import type { Answer, Engine, Flight, Found, Loader } from './entries.js';
import { servable, staleOnError } from './load.js';
import { LoadDirectives, type LoaderWindows } from './loader-context.js';
import type { ResolvedEntryOptions } from './options.js';
import { checkLoaded } from './validation.js';

// The batch loader's side of getManyOrLoad: its context, its result by key, and its single-key form.

/** What a batch loader gets besides its keys: {@link LoaderContext}'s calls, for one key each. */
export interface ManyLoaderContext {
  /** {@link LoaderContext.setTtl} for `key` (one of the keys being loaded). */
  setTtl(key: string, ttlMs: number, windows?: LoaderWindows): void;
  /** {@link LoaderContext.skipCache} for `key` (one of the keys being loaded). */
  skipCache(key: string): void;
}

/**
 * Loads the values of `keys` (the misses of one `getManyOrLoad` call) in one go: an array in the
 * order of `keys`, or a Map from key to value (a key the Map lacks gets `undefined`).
 */
export type ManyLoader<T> = (
  keys: string[],
  context: ManyLoaderContext,
) => ReadonlyArray<T> | ReadonlyMap<string, T> | Promise<ReadonlyArray<T> | ReadonlyMap<string, T>>;

/** One key this call reads for every caller in this process: the flight it owns, settled by the batch. */
export interface Slot {
  key: string;
  answer: Answer;
  promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  /** A stale or error-only entry read first, for stale-if-error. */
  fallback?: Found;
}

/** Per-key directives of one loadMany call; an unknown key is a mistake that fails the whole load. */
export class BatchDirectives {
  readonly byKey = new Map<string, LoadDirectives>();
  error: InvalidArgumentError | undefined;
  readonly context: ManyLoaderContext = {
    setTtl: (key, ttlMs, windows) => this.#of(key).setTtl(ttlMs, windows),
    skipCache: (key) => this.#of(key).skipCache(),
  };

  constructor(keys: readonly string[]) {
    for (const key of keys) this.byKey.set(key, new LoadDirectives());
  }

  /** Why the load's result cannot be used at all, if it cannot: a bad TTL, an unknown key, a bad shape. */
  refusal(): InvalidArgumentError | undefined {
    if (this.error !== undefined) return this.error;
    for (const d of this.byKey.values()) if (d.error !== undefined) return d.error;
    return undefined;
  }

  #of(key: string): LoadDirectives {
    const d = this.byKey.get(key);
    if (d !== undefined) return d;
    const err = new InvalidArgumentError(
      'key',
      `"${String(key)}" is not one of the keys this loadMany call loads.`,
    );
    this.error ??= err;
    throw err;
  }
}

/**
 * Calls loadMany once and returns its values by key; a result of the wrong shape refuses the whole
 * load (recorded in `batch`, so no stale value stands in for it).
 */
export async function callMany<T>(
  e: Engine,
  keys: string[],
  loadMany: ManyLoader<T>,
  batch: BatchDirectives,
): Promise<Map<string, unknown>> {
  const started = performance.now();
  const first = keys[0] as string;
  let result: Awaited<ReturnType<ManyLoader<T>>>;
  try {
    result = await loadMany([...keys], batch.context);
  } catch (err) {
    e.telemetry.load(first, performance.now() - started, err, keys);
    throw err;
  }
  e.telemetry.load(first, performance.now() - started, undefined, keys);
  try {
    return valuesByKey(keys, result);
  } catch (err) {
    batch.error ??= err as InvalidArgumentError;
    throw err;
  }
}

function valuesByKey(keys: readonly string[], result: unknown): Map<string, unknown> {
  if (result instanceof Map) return new Map(keys.map((k) => [k, result.get(k)]));
  if (Array.isArray(result) && result.length === keys.length) {
    return new Map(keys.map((k, i) => [k, result[i]]));
  }
  const got = Array.isArray(result) ? `an array of ${result.length}` : typeof result;
  throw new InvalidArgumentError(
    'loadMany',
    `expected an array of ${keys.length} values (one per key, in order) or a Map from key to value, got ${got}.`,
  );
}

/** loadMany as a single-key loader: for a stale key's refresh, or a key another process was loading. */
export function oneKey<T>(loadMany: ManyLoader<T>): Loader<T> {
  return async (ctx) => {
    const mine = (key: string) => {
      if (key !== ctx.key) {
        throw new InvalidArgumentError(
          'key',
          `"${String(key)}" is not one of the keys this loadMany call loads.`,
        );
      }
    };
    const result = await loadMany([ctx.key], {
      setTtl: (key, ttlMs, windows) => {
        mine(key);
        ctx.setTtl(ttlMs, windows);
      },
      skipCache: (key) => {
        mine(key);
        ctx.skipCache();
      },
    });
    return valuesByKey([ctx.key], result).get(ctx.key) as T;
  };
}

/**
 * loadMany threw (or its result was refused): each key gets its stale-if-error value when it has one,
 * else the error. A refusal (bad TTL, unknown key, wrong shape) is a bug to see: never masked by stale values.
 */
export async function failAll(
  e: Engine,
  slots: Slot[],
  err: unknown,
  batch: BatchDirectives,
  o: ResolvedEntryOptions,
): Promise<void> {
  const refused = batch.refusal();
  await Promise.all(
    slots.map(async (slot) => {
      if (refused === undefined && (await servable(e, slot.fallback, o.timeoutMs))) {
        staleOnError(e, slot.answer, slot.key);
        slot.resolve((slot.fallback as Found).value);
      } else slot.reject(refused ?? err);
    }),
  );
}

/** Registers a flight for `key` that the batch settles; getOrLoad calls meanwhile join it. */
export function openFlight(e: Engine, key: string): Slot {
  let resolve: (value: unknown) => void = () => {};
  let reject: (err: unknown) => void = () => {};
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const answer: Answer = {};
  const flight: Flight = { promise, answer };
  e.flights.set(key, flight);
  const done = () => {
    if (e.flights.get(key) === flight) e.flights.delete(key);
  };
  promise.then(done, done);
  return { key, answer, promise, resolve, reject };
}

/** Fail-open: Redis is down or failing, so loadMany answers for every key and nothing is written. */
export async function loadWithoutCache<T>(
  e: Engine,
  slots: Slot[],
  loadMany: ManyLoader<T>,
  o: ResolvedEntryOptions,
): Promise<void> {
  const keys = slots.map((s) => s.key);
  for (const key of keys) e.telemetry.miss(key);
  const batch = new BatchDirectives(keys);
  let loaded: Map<string, unknown>;
  try {
    loaded = await callMany(e, keys, loadMany, batch);
  } catch (err) {
    return failAll(e, slots, err, batch, o);
  }
  for (const slot of slots) {
    const refused = batch.error ?? batch.byKey.get(slot.key)?.error;
    if (refused !== undefined) slot.reject(refused);
    else checkLoaded(o.validate, slot.key, loaded.get(slot.key)).then(slot.resolve, slot.reject);
  }
}
