import { randomBytes } from 'node:crypto';
import { ConnectionError } from '@redis-patterns/connection';
import {
  type Engine,
  examine,
  type Found,
  frame,
  type Loader,
  lookup,
  tagsCurrent,
  track,
} from './entries.js';
import { serializeValue, stateOf } from './envelope.js';
import type { ResolvedEntryOptions } from './options.js';
import type { Cache, WarmEntry, WarmResult } from './types.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The cache-aside read: near cache, then one GET; on a miss one process (lease holder) loads while
 * the others wait for its value; stale values are served while refreshing or when the loader fails;
 * Redis trouble never fails the call (the loader answers and the error is counted).
 */
export function getOrLoad<T>(e: Engine, key: string, loader: Loader<T>, o: ResolvedEntryOptions): Promise<T> {
  const near = e.near?.get(e.store.entryKey(key), Date.now());
  if (near !== undefined && near.envelope.tags === undefined) {
    e.telemetry.hit(key, 'near');
    return Promise.resolve(near.value as T);
  }
  const joined = e.flights.get(key);
  if (joined !== undefined) return joined as Promise<T>;
  const flight = readThrough(e, key, loader, o);
  e.flights.set(key, flight);
  // delete(), set() and invalidations drop the flight so later callers read again: remove only our own.
  const done = () => {
    if (e.flights.get(key) === flight) e.flights.delete(key);
  };
  flight.then(done, done);
  return flight;
}

async function readThrough<T>(
  e: Engine,
  key: string,
  loader: Loader<T>,
  o: ResolvedEntryOptions,
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
    return await loadAlone(e, key, loader, undefined, o.timeoutMs);
  }
  let found: Found | undefined;
  try {
    if (e.near === undefined) {
      // The hit path without a near cache: one GET, decoded in place (one async step fewer).
      const examined = examine(e, key, await e.store.read(key, o.timeoutMs), o.timeoutMs);
      found = examined instanceof Promise ? await examined : examined;
    } else found = await lookup(e, key, o.timeoutMs);
  } catch (err) {
    e.telemetry.failure('read', err, key);
    return await loadAlone(e, key, loader, undefined, o.timeoutMs);
  }
  if (found?.state === 'fresh') {
    e.telemetry.hit(key, found.tier);
    return found.value as T;
  }
  if (found?.state === 'stale') {
    e.telemetry.hit(key, 'redis', true);
    refreshInBackground(e, key, loader, o);
    return found.value as T;
  }
  e.telemetry.miss(key);
  return await loadOnce(e, key, loader, o, found, startedAt + e.options.leaseWaitMs);
}

/** Calls the loader once (fail-open path or after losing Redis): no lease, no write. */
async function loadAlone<T>(
  e: Engine,
  key: string,
  loader: Loader<T>,
  fallback: Found | undefined,
  timeoutMs: number,
): Promise<T> {
  try {
    return await callLoader(e, key, loader, fallback);
  } catch (err) {
    if (await servable(e, fallback, timeoutMs)) {
      e.telemetry.staleOnError(key);
      return (fallback as Found).value as T;
    }
    throw err;
  }
}

/**
 * Whether a stale value read before a wait may still stand in for a failed load: it is inside its
 * stale-if-error window now (the wait may have outlasted it), and none of its tags was invalidated
 * meanwhile. If Redis cannot say, it may: that is the fail-open case the window exists for.
 */
async function servable(e: Engine, fallback: Found | undefined, timeoutMs: number): Promise<boolean> {
  if (fallback === undefined || stateOf(fallback.envelope, Date.now()) === 'expired') return false;
  if (fallback.envelope.tags === undefined || fallback.envelope.tags.length === 0) return true;
  return tagsCurrent(e, fallback.envelope, timeoutMs).catch(() => true);
}

async function callLoader<T>(
  e: Engine,
  key: string,
  loader: Loader<T>,
  fallback: Found | undefined,
): Promise<T> {
  const started = performance.now();
  try {
    const value = await loader({ key, staleValue: fallback?.value as T | undefined });
    e.telemetry.load(key, performance.now() - started);
    return value;
  } catch (err) {
    e.telemetry.load(key, performance.now() - started, err);
    throw err;
  }
}

/**
 * Miss path across processes: take the lease and load, or wait for the holder's value until
 * `deadline` (`performance.now()`: the call's start plus leaseWaitMs), then load alone.
 */
async function loadOnce<T>(
  e: Engine,
  key: string,
  loader: Loader<T>,
  o: ResolvedEntryOptions,
  fallback: Found | undefined,
  deadline: number,
): Promise<T> {
  const token = randomBytes(12).toString('base64url');
  // Each Redis call waits at most its timeout, and never past the end of the lease wait.
  const bound = () => Math.max(1, Math.min(o.timeoutMs, deadline - performance.now()));
  let delayMs = 5;
  for (;;) {
    let attempt: { won: boolean; raw: string | null };
    try {
      attempt = await e.store.acquire(key, token, e.options.leaseTtlMs, o.timeoutMs);
      const current = await examine(e, key, attempt.raw, o.timeoutMs, Date.now(), false);
      if (current?.state === 'fresh') {
        // Another process committed between our first read and the lease: no load needed.
        if (attempt.won) track(e, e.store.release(key, token, o.timeoutMs));
        return current.value as T;
      }
    } catch (err) {
      e.telemetry.failure('lease', err, key);
      return loadAlone(e, key, loader, fallback, o.timeoutMs);
    }
    if (attempt.won) return lead(e, key, token, loader, o, fallback);
    // Someone else loads: poll until their value lands, their lease disappears, or we run out of patience.
    for (;;) {
      if (performance.now() >= deadline) return loadAlone(e, key, loader, fallback, o.timeoutMs);
      await sleep(Math.min(delayMs + Math.random() * delayMs, Math.max(0, deadline - performance.now())));
      delayMs = Math.min(delayMs * 2, 100);
      if (performance.now() >= deadline) return loadAlone(e, key, loader, fallback, o.timeoutMs);
      let polled: { leaseAlive: boolean; raw: string | null };
      try {
        polled = await e.store.poll(key, bound());
        const current = await examine(e, key, polled.raw, bound(), Date.now(), false);
        if (current?.state === 'fresh') return current.value as T;
      } catch (err) {
        e.telemetry.failure('lease', err, key);
        return loadAlone(e, key, loader, fallback, o.timeoutMs);
      }
      if (!polled.leaseAlive) break; // the holder died or gave up: compete for the lease again
    }
  }
}

/** Lease holder: renew the lease while the loader runs, then write only if the lease is still ours. */
async function lead<T>(
  e: Engine,
  key: string,
  token: string,
  loader: Loader<T>,
  o: ResolvedEntryOptions,
  fallback: Found | undefined,
): Promise<T> {
  const { leaseTtlMs } = e.options;
  const heartbeat = setInterval(
    () => {
      e.store.extend(key, token, leaseTtlMs, o.timeoutMs).catch(() => {});
    },
    Math.max(10, Math.floor(leaseTtlMs / 3)),
  );
  heartbeat.unref();
  let value: T;
  let tags: Array<[string, string]> | undefined;
  try {
    // Versions are read BEFORE loading: an invalidation during the load then spoils this entry.
    if (o.tags.length > 0)
      tags = await e.store.ensureTags(o.tags, minTagTtl(e, o), o.timeoutMs).catch((err) => {
        e.telemetry.failure('tags', err, key);
        return undefined;
      });
    value = await callLoader(e, key, loader, fallback);
  } catch (err) {
    clearInterval(heartbeat);
    track(e, e.store.release(key, token, o.timeoutMs));
    if (await servable(e, fallback, o.timeoutMs)) {
      e.telemetry.staleOnError(key);
      return (fallback as Found).value as T;
    }
    throw err;
  }
  clearInterval(heartbeat);
  const uncached =
    (o.tags.length > 0 && tags === undefined) || (!o.cacheNull && (value === null || value === undefined));
  if (uncached) {
    track(e, e.store.release(key, token, o.timeoutMs));
    return value;
  }
  let prepared: { bytes: Buffer; pxMs: number };
  try {
    const serialized = serializeValue(value, undefined, e.options.serializer);
    prepared = frame(e, serialized, value === null || value === undefined, o, tags);
  } catch (err) {
    // Refused value (function, cycle, too big): nothing is written and the caller learns why.
    track(e, e.store.release(key, token, o.timeoutMs));
    throw err;
  }
  e.near?.invalidate(e.store.entryKey(key));
  try {
    await e.store.commit(key, token, prepared.bytes, prepared.pxMs, o.timeoutMs);
  } catch (err) {
    e.telemetry.failure('write', err, key);
  }
  e.near?.invalidate(e.store.entryKey(key));
  return value;
}

/** Stale-while-revalidate: one refresh per key across processes (the lease), errors counted only. */
function refreshInBackground<T>(e: Engine, key: string, loader: Loader<T>, o: ResolvedEntryOptions) {
  if (e.refreshing.has(key)) return;
  e.refreshing.add(key);
  const token = randomBytes(12).toString('base64url');
  const refresh = e.store
    .acquire(key, token, e.options.leaseTtlMs, o.timeoutMs)
    .then(async ({ won, raw }) => {
      if (!won) return; // another process is refreshing it
      const current = await examine(e, key, raw, o.timeoutMs, Date.now(), false);
      if (current?.state === 'fresh') track(e, e.store.release(key, token, o.timeoutMs));
      else await lead(e, key, token, loader, o, undefined);
    });
  track(
    e,
    refresh
      .catch((err: unknown) => e.telemetry.failure('refresh', err, key))
      .finally(() => e.refreshing.delete(key)),
  );
}

function minTagTtl(e: Engine, o: ResolvedEntryOptions): number {
  // The tag must outlive the entry written after the load; a margin covers the load itself.
  return (
    Math.ceil(Math.max(o.ttlMs, o.negativeTtlMs ?? 0) + Math.max(o.staleMs, o.staleIfErrorMs)) +
    e.options.leaseWaitMs +
    60_000
  );
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
