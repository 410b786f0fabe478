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
import { LoadDirectives } from './loader-context.js';
import type { ResolvedEntryOptions } from './options.js';
import { checkLoaded } from './validation.js';

// Running the loader for one read: alone (fail-open), or as the lease holder that writes its result,
// and the background refresh of stale-while-revalidate.

/** Calls the loader once (fail-open path or after losing Redis): no lease, no write. A miss. */
export async function loadAlone<T>(
  e: Engine,
  key: string,
  loader: Loader<T>,
  fallback: Found | undefined,
  o: ResolvedEntryOptions,
  answer: Answer,
): Promise<T> {
  e.telemetry.miss(key);
  const d = new LoadDirectives();
  let value: T;
  try {
    value = await callLoader(e, key, loader, fallback, d);
  } catch (err) {
    if (d.error === undefined && (await servable(e, fallback, o.timeoutMs))) {
      staleOnError(e, answer, key);
      return (fallback as Found).value as T;
    }
    throw d.error ?? err;
  }
  if (d.error !== undefined) throw d.error;
  return (await checkLoaded(o.validate, key, value)) as T;
}

/** Counts a stale value served for a failed load, and notes it for the calls sharing this read. */
export function staleOnError(e: Engine, answer: Answer, key: string): void {
  answer.staleOnError = true;
  e.telemetry.staleOnError(key);
}

/**
 * Whether a stale value read before a wait may still stand in for a failed load: it is inside its
 * stale-if-error window now (the wait may have outlasted it), and none of its tags was invalidated
 * meanwhile. If Redis cannot say, it may: that is the fail-open case the window exists for.
 */
export async function servable(e: Engine, fallback: Found | undefined, timeoutMs: number): Promise<boolean> {
  if (fallback === undefined || stateOf(fallback.envelope, Date.now()) === 'expired') return false;
  if (fallback.envelope.tags === undefined || fallback.envelope.tags.length === 0) return true;
  return tagsCurrent(e, fallback.envelope, timeoutMs).catch(() => true);
}

async function callLoader<T>(
  e: Engine,
  key: string,
  loader: Loader<T>,
  fallback: Found | undefined,
  d: LoadDirectives,
): Promise<T> {
  const started = performance.now();
  try {
    const value = await loader({
      key,
      staleValue: fallback?.value as T | undefined,
      setTtl: (ttlMs, windows) => d.setTtl(ttlMs, windows),
      skipCache: () => d.skipCache(),
    });
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
  const d = new LoadDirectives();
  let value: T;
  let tags: Array<[string, string]> | undefined;
  try {
    // Versions are read BEFORE loading: an invalidation during the load then spoils this entry.
    if (o.tags.length > 0)
      tags = await e.store.ensureTags(o.tags, minTagTtl(e, o), o.timeoutMs).catch((err) => {
        e.telemetry.failure('tags', err, key);
        return undefined;
      });
    value = await callLoader(e, key, loader, fallback, d);
  } catch (err) {
    clearInterval(heartbeat);
    track(e, e.store.release(key, token, o.timeoutMs));
    if (d.error === undefined && (await servable(e, fallback, o.timeoutMs))) {
      staleOnError(e, answer, key);
      return (fallback as Found).value as T;
    }
    throw d.error ?? err;
  }
  clearInterval(heartbeat);
  return (await commitLoaded(e, key, token, value, o, tags, d)) as T;
}

/**
 * The leader's write after its loader returned: the value is checked (`validate`, the loader's TTL,
 * its size) before anything is written; skipped, uncacheable or refused values release the lease.
 * Resolves to what callers get (the check's output), or rejects with why the value was refused.
 */
async function commitLoaded(
  e: Engine,
  key: string,
  token: string,
  value: unknown,
  o: ResolvedEntryOptions,
  tags: Array<[string, string]> | undefined,
  d: LoadDirectives,
): Promise<unknown> {
  const release = () => track(e, e.store.release(key, token, o.timeoutMs));
  let out: unknown;
  let prepared: { bytes: Buffer; pxMs: number } | undefined;
  const chosen = d.apply(o);
  try {
    if (d.error !== undefined) throw d.error;
    out = await checkLoaded(o.validate, key, value);
    if (!uncached(value, o, tags, d)) prepared = prepareEntry(e, value, chosen, tags);
  } catch (err) {
    // Refused value (failed check, bad TTL, function, cycle, too big): nothing is written.
    release();
    throw err;
  }
  if (prepared === undefined) {
    release();
    return out;
  }
  await extendTags(e, key, o, chosen, tags);
  e.near?.invalidate(e.store.entryKey(key));
  try {
    await e.store.commit(key, token, prepared.bytes, prepared.pxMs, o.timeoutMs);
  } catch (err) {
    e.telemetry.failure('write', err, key);
  }
  e.near?.invalidate(e.store.entryKey(key));
  return out;
}

/** Whether a loaded value is returned without being written (skipped, tags unknown, an uncached null). */
export function uncached(
  value: unknown,
  o: ResolvedEntryOptions,
  tags: Array<[string, string]> | undefined,
  d: LoadDirectives,
): boolean {
  return (
    d.skip ||
    (o.tags.length > 0 && tags === undefined) ||
    (!o.cacheNull && (value === null || value === undefined))
  );
}

/** The stored bytes and Redis TTL of a loaded value; throws InvalidArgumentError when it cannot be stored. */
export function prepareEntry(
  e: Engine,
  value: unknown,
  o: ResolvedEntryOptions,
  tags: Array<[string, string]> | undefined,
): { bytes: Buffer; pxMs: number } {
  const serialized = serializeValue(value, undefined, e.options.serializer);
  return frame(e, serialized, value === null || value === undefined, o, tags);
}

/**
 * When the loader chose a longer life than the call's options (read before the load), the tag keys
 * must outlive the entry too: their TTL is raised (versions already read are kept; an invalidation
 * since then still spoils the entry). A failure only counts: a tag that lapses early makes the entry a
 * miss early, never a stale hit.
 */
export async function extendTags(
  e: Engine,
  key: string,
  o: ResolvedEntryOptions,
  chosen: ResolvedEntryOptions,
  tags: Array<[string, string]> | undefined,
): Promise<void> {
  if (tags === undefined || chosen === o || minTagTtl(e, chosen) <= minTagTtl(e, o)) return;
  await e.store
    .ensureTags(o.tags, minTagTtl(e, chosen), o.timeoutMs)
    .catch((err) => e.telemetry.failure('tags', err, key));
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

export function minTagTtl(e: Engine, o: ResolvedEntryOptions): number {
  // The tag must outlive the entry written after the load; a margin covers the load itself.
  return (
    Math.ceil(Math.max(o.ttlMs, o.negativeTtlMs ?? 0) + Math.max(o.staleMs, o.staleIfErrorMs)) +
    e.options.leaseWaitMs +
    60_000
  );
}
