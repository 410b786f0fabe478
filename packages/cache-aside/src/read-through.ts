import { randomBytes } from 'node:crypto';
import { ConnectionError } from '@redis-patterns/connection';
import {
  type Answer,
  type Engine,
  examine,
  type Flight,
  type Found,
  type Loader,
  lookup,
  track,
} from './entries.js';
import { lead, loadAlone, refreshInBackground } from './load.js';
import type { ResolvedEntryOptions } from './options.js';
import type { Cache, WarmEntry, WarmResult } from './types.js';
import { usable } from './validation.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The cache-aside read: near cache, then one GET; on a miss one process (lease holder) loads while
 * the others wait for its value; stale values are served while refreshing or when the loader fails;
 * Redis trouble never fails the call (the loader answers and the error is counted).
 */
export function getOrLoad<T>(e: Engine, key: string, loader: Loader<T>, o: ResolvedEntryOptions): Promise<T> {
  // With a check, near-cache copies are checked by lookup() on the way through (never served unchecked).
  const near = o.validate === undefined ? e.near?.get(e.store.entryKey(key), Date.now()) : undefined;
  if (near !== undefined && near.envelope.tags === undefined) {
    e.telemetry.hit(key, 'near');
    return Promise.resolve(near.value as T);
  }
  const current = e.flights.get(key);
  if (current !== undefined) return join(e, key, current) as Promise<T>;
  const answer: Answer = {};
  const flight: Flight = { promise: readThrough(e, key, loader, o, answer), answer };
  e.flights.set(key, flight);
  // delete(), set() and invalidations drop the flight so later callers read again: remove only our own.
  const done = () => {
    if (e.flights.get(key) === flight) e.flights.delete(key);
  };
  flight.promise.then(done, done);
  return flight.promise as Promise<T>;
}

/**
 * A call that shares a read in flight counts as what that read found: a hit when it was one, else
 * `joined` (the read loaded, or got another process's load), whether the value or an error comes back.
 */
export function join(e: Engine, key: string, flight: Flight): Promise<unknown> {
  const count = () => {
    const found = flight.answer.hit;
    if (found === undefined) e.telemetry.joined(key, 'flight');
    else e.telemetry.hit(key, found.tier, found.stale);
    if (flight.answer.staleOnError === true) e.telemetry.staleOnError(key);
  };
  return flight.promise.then(
    (value) => {
      count();
      return value;
    },
    (err: unknown) => {
      count();
      throw err;
    },
  );
}

/** Counts a hit, and notes it for the calls sharing this read. */
export function hit(e: Engine, answer: Answer, key: string, tier: 'near' | 'redis', stale = false): void {
  answer.hit = { tier, stale };
  e.telemetry.hit(key, tier, stale);
}

async function readThrough<T>(
  e: Engine,
  key: string,
  loader: Loader<T>,
  o: ResolvedEntryOptions,
  answer: Answer,
): Promise<T> {
  const startedAt = performance.now();
  if (!e.conn.isReady) {
    e.telemetry.failure(
      'read',
      new ConnectionError('Redis is not connected: the value comes from the loader.'),
      key,
    );
    // On a later turn of the event loop: with a loader that answers at once, a caller reading in a
    // loop would otherwise run on microtasks alone and starve the socket I/O that reconnects.
    await new Promise((resolve) => setImmediate(resolve));
    return await loadAlone(e, key, loader, undefined, o, answer);
  }
  let found: Found | undefined;
  try {
    if (e.near === undefined) {
      // The hit path without a near cache: one GET, decoded in place (one async step fewer).
      const examined = examine(e, key, await e.store.read(key, o.timeoutMs), o.timeoutMs);
      found = examined instanceof Promise ? await examined : examined;
      if (o.validate !== undefined) found = await usable(e, key, found, o.validate);
    } else found = await lookup(e, key, o.timeoutMs, o.validate);
  } catch (err) {
    e.telemetry.failure('read', err, key);
    return await loadAlone(e, key, loader, undefined, o, answer);
  }
  if (found?.state === 'fresh') {
    hit(e, answer, key, found.tier);
    return found.value as T;
  }
  if (found?.state === 'stale') {
    hit(e, answer, key, 'redis', true);
    refreshInBackground(e, key, loader, o);
    return found.value as T;
  }
  return await loadOnce(e, key, loader, o, found, startedAt + e.options.leaseWaitMs, answer);
}

/**
 * Miss path across processes: take the lease and load, or wait for the holder's value until
 * `deadline` (`performance.now()`: the call's start plus leaseWaitMs), then load alone. A value
 * found before any wait is a hit; one found after waiting came from another process's load: joined.
 */
export async function loadOnce<T>(
  e: Engine,
  key: string,
  loader: Loader<T>,
  o: ResolvedEntryOptions,
  fallback: Found | undefined,
  deadline: number,
  answer: Answer,
): Promise<T> {
  const token = randomBytes(12).toString('base64url');
  // Each Redis call waits at most its timeout, and never past the end of the lease wait.
  const bound = () => Math.max(1, Math.min(o.timeoutMs, deadline - performance.now()));
  let delayMs = 5;
  let waited = false;
  for (;;) {
    let attempt: { won: boolean; raw: string | null };
    try {
      attempt = await e.store.acquire(key, token, e.options.leaseTtlMs, o.timeoutMs);
      const read = await examine(e, key, attempt.raw, o.timeoutMs, Date.now(), false);
      const current = await usable(e, key, read, o.validate, false);
      if (current?.state === 'fresh') {
        // Another process committed since our last read (before the lease, or during our wait).
        if (attempt.won) track(e, e.store.release(key, token, o.timeoutMs));
        if (waited) e.telemetry.joined(key, 'lease');
        else hit(e, answer, key, 'redis');
        return current.value as T;
      }
    } catch (err) {
      e.telemetry.failure('lease', err, key);
      return loadAlone(e, key, loader, fallback, o, answer);
    }
    if (attempt.won) {
      e.telemetry.miss(key);
      return lead(e, key, token, loader, o, fallback, answer);
    }
    // Someone else loads: poll until their value lands, their lease disappears, or we run out of patience.
    for (;;) {
      if (performance.now() >= deadline) return loadAlone(e, key, loader, fallback, o, answer);
      await sleep(Math.min(delayMs + Math.random() * delayMs, Math.max(0, deadline - performance.now())));
      delayMs = Math.min(delayMs * 2, 100);
      waited = true;
      if (performance.now() >= deadline) return loadAlone(e, key, loader, fallback, o, answer);
      let polled: { leaseAlive: boolean; raw: string | null };
      try {
        polled = await e.store.poll(key, bound());
        const read = await examine(e, key, polled.raw, bound(), Date.now(), false);
        const current = await usable(e, key, read, o.validate, false);
        if (current?.state === 'fresh') {
          e.telemetry.joined(key, 'lease');
          return current.value as T;
        }
      } catch (err) {
        e.telemetry.failure('lease', err, key);
        return loadAlone(e, key, loader, fallback, o, answer);
      }
      if (!polled.leaseAlive) break; // the holder died or gave up: compete for the lease again
    }
  }
}

/** Loads `entries` through `cache.getOrLoad`, 8 at a time; counts the loader calls. */
export async function warm(cache: Cache, entries: readonly WarmEntry[]): Promise<WarmResult> {
  let loaded = 0;
  const queue = [...entries];
  const worker = async () => {
    for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) {
      const { key, loader, ...opts } = entry;
      const counted: Loader<unknown> = (ctx) => {
        loaded++;
        return loader(ctx);
      };
      await cache.getOrLoad(key, counted, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
  return { loaded };
}
