import { randomBytes } from 'node:crypto';
import {
  type Answer,
  type Engine,
  examine,
  type Found,
  frame,
  type Loader,
  tagsCurrent,
  track,
} from './entries.js';
import { serializeValue, stateOf } from './envelope.js';
import type { ResolvedEntryOptions } from './options.js';

// Running the loader for one read: alone (fail-open), or as the lease holder that writes its result,
// and the background refresh of stale-while-revalidate.

/** Calls the loader once (fail-open path or after losing Redis): no lease, no write. A miss. */
export async function loadAlone<T>(
  e: Engine,
  key: string,
  loader: Loader<T>,
  fallback: Found | undefined,
  timeoutMs: number,
  answer: Answer,
): Promise<T> {
  e.telemetry.miss(key);
  try {
    return await callLoader(e, key, loader, fallback);
  } catch (err) {
    if (await servable(e, fallback, timeoutMs)) {
      staleOnError(e, answer, key);
      return (fallback as Found).value as T;
    }
    throw err;
  }
}

/** Counts a stale value served for a failed load, and notes it for the calls sharing this read. */
function staleOnError(e: Engine, answer: Answer, key: string): void {
  answer.staleOnError = true;
  e.telemetry.staleOnError(key);
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

/** Lease holder: renew the lease while the loader runs, then write only if the lease is still ours. */
export async function lead<T>(
  e: Engine,
  key: string,
  token: string,
  loader: Loader<T>,
  o: ResolvedEntryOptions,
  fallback: Found | undefined,
  answer: Answer,
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
      staleOnError(e, answer, key);
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
export function refreshInBackground<T>(e: Engine, key: string, loader: Loader<T>, o: ResolvedEntryOptions) {
  if (e.refreshing.has(key)) return;
  e.refreshing.add(key);
  const token = randomBytes(12).toString('base64url');
  const refresh = e.store
    .acquire(key, token, e.options.leaseTtlMs, o.timeoutMs)
    .then(async ({ won, raw }) => {
      if (!won) return; // another process is refreshing it
      const current = await examine(e, key, raw, o.timeoutMs, Date.now(), false);
      if (current?.state === 'fresh') track(e, e.store.release(key, token, o.timeoutMs));
      else await lead(e, key, token, loader, o, undefined, {});
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
