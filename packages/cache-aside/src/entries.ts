import type { RedisConnection } from '@redis-patterns/connection';
import type { Store } from './commands/index.js';
import {
  decodeEnvelope,
  decodeValue,
  type Envelope,
  frameEnvelope,
  isBinaryCodec,
  type SerializedValue,
  stateOf,
} from './envelope.js';
import type { LoaderWindows } from './loader-context.js';
import type { NearCache } from './near-cache.js';
import type { ResolvedCacheOptions, ResolvedEntryOptions } from './options.js';
import type { Telemetry } from './stats.js';
import { type Check, usable } from './validation.js';

/**
 * What the loader gets: the key, the stale value when one exists (for conditional refreshes), and
 * two calls that decide, from the value loaded, how it is cached. A loader that ignores them caches
 * with the call's options.
 */
export interface LoaderContext<T> {
  /** The cache key being loaded. */
  key: string;
  /** The expired value still held in the cache, if any. */
  staleValue: T | undefined;
  /**
   * Caches this value for `ttlMs` (instead of `ttlMs`, or `negativeTtlMs` for `null`), and with these
   * stale windows if given; `jitter` still applies. A bad duration throws `InvalidArgumentError`, and
   * the load then fails with it (nothing is written) even if the loader catches it.
   *
   * @example
   * ```ts
   * const user = await cache.getOrLoad(`user:${id}`, async (ctx) => {
   *   const row = await db.users.find(id);
   *   ctx.setTtl(row === null ? 5_000 : 3_600_000); // retry a missing user soon, keep a real one an hour
   *   return row;
   * });
   * ```
   */
  setTtl(ttlMs: number, windows?: LoaderWindows): void;
  /**
   * Returns this value without caching it: every caller sharing this load gets it, nothing is
   * written, and the load lease is released (the next miss loads again).
   */
  skipCache(): void;
}

/** Computes a value on a miss. */
export type Loader<T> = (context: LoaderContext<T>) => T | Promise<T>;

/** Everything the read-through algorithm needs, shared by one cache. */
export interface Engine {
  conn: RedisConnection;
  store: Store;
  near: NearCache | undefined;
  telemetry: Telemetry;
  options: ResolvedCacheOptions;
  /** Background refreshes and commits, awaited by close(). */
  background: Set<Promise<unknown>>;
  /** In-process single flight: one read-through per key at a time. */
  flights: Map<string, Flight>;
  /** Keys this process is refreshing in the background (stale-while-revalidate). */
  refreshing: Set<string>;
}

/** A read-through in flight, shared by the calls of this process that ask for its key meanwhile. */
export interface Flight {
  promise: Promise<unknown>;
  answer: Answer;
}

/** How a read-through was answered, set before it settles: the calls that joined it count alike. */
export interface Answer {
  /** Set when it found a usable entry; unset when it loaded, or got another process's load. */
  hit?: { tier: 'near' | 'redis'; stale: boolean };
  /** Set when the loader failed and a stale value was served instead. */
  staleOnError?: boolean;
}

/** A decoded entry and where it stands. */
export interface Found {
  envelope: Envelope;
  state: 'fresh' | 'stale' | 'error-only';
  value: unknown;
  tier: 'near' | 'redis';
}

/**
 * Decodes and validates one stored entry (format, binary re-read, tags, value); undefined for a miss.
 * Synchronous for the common case (text, no tags), so a hit costs no extra promise.
 */
export function examine(
  e: Engine,
  key: string,
  raw: string | Buffer | null,
  timeoutMs: number,
  now = Date.now(),
  countCorrupt = true,
): Found | undefined | Promise<Found | undefined> {
  if (raw === null) return undefined;
  const envelope = decodeEnvelope(raw);
  if (envelope === undefined) {
    if (countCorrupt) e.telemetry.counts.corrupt++;
    return undefined;
  }
  if (typeof raw === 'string' && isBinaryCodec(envelope.codec)) {
    return e.store
      .readBinary(key, timeoutMs)
      .then((bytes) => examine(e, key, bytes, timeoutMs, now, countCorrupt));
  }
  const state = stateOf(envelope, now);
  if (state === 'expired') return undefined;
  if (envelope.tags === undefined || envelope.tags.length === 0)
    return decoded(e, envelope, state, countCorrupt);
  return tagsCurrent(e, envelope, timeoutMs).then((current) =>
    current ? decoded(e, envelope, state, countCorrupt) : undefined,
  );
}

function decoded(
  e: Engine,
  envelope: Envelope,
  state: Found['state'],
  countCorrupt: boolean,
): Found | undefined {
  try {
    return { envelope, state, value: decodeValue(envelope, e.options.serializer), tier: 'redis' };
  } catch {
    // Undecodable payload (another serializer, a truncated write): a miss, replaced by the next load.
    if (countCorrupt) e.telemetry.counts.corrupt++;
    return undefined;
  }
}

/** True when every tag version recorded in the entry is still the current one. */
export async function tagsCurrent(e: Engine, envelope: Envelope, timeoutMs: number): Promise<boolean> {
  const tags = envelope.tags;
  if (tags === undefined || tags.length === 0) return true;
  const unknown: string[] = [];
  for (const [tag, version] of tags) {
    const local = e.near?.tagVersion(e.store.tagKey(tag));
    if (local === undefined) unknown.push(tag);
    else if (local !== version) return false;
  }
  if (unknown.length === 0) return true;
  const tickets =
    e.near === undefined ? [] : unknown.map((t) => (e.near as NearCache).begin(e.store.tagKey(t)));
  let current: Map<string, string | null>;
  try {
    current = await e.store.tagVersions(unknown, timeoutMs);
  } catch (err) {
    for (const ticket of tickets) e.near?.end(ticket);
    throw err;
  }
  unknown.forEach((t, i) => {
    const ticket = tickets[i];
    if (ticket !== undefined) e.near?.keepTag(ticket, current.get(t) ?? null);
  });
  return tags.every(([tag, version]) => !current.has(tag) || current.get(tag) === version);
}

/**
 * Reads one key through the near cache and Redis, keeping only entries that pass `check` (an invalid
 * one is a miss, also when the near cache held it); Redis errors propagate.
 */
export async function lookup(
  e: Engine,
  key: string,
  timeoutMs: number,
  check?: Check,
): Promise<Found | undefined> {
  const now = Date.now();
  const redisKey = e.store.entryKey(key);
  const near = e.near?.get(redisKey, now);
  if (near !== undefined && (await tagsCurrent(e, near.envelope, timeoutMs))) {
    const found: Found = { envelope: near.envelope, state: 'fresh', value: near.value, tier: 'near' };
    const valid = await usable(e, key, found, check, false); // counted once, by the read below
    if (valid !== undefined) return valid;
  }
  const ticket = e.near?.begin(redisKey);
  let found: Found | undefined;
  let valid: Found | undefined;
  try {
    const examined = examine(e, key, await e.store.read(key, timeoutMs), timeoutMs, now);
    found = examined instanceof Promise ? await examined : examined;
    // Checked before it is kept: an invalid value never reaches the near cache.
    valid = check === undefined ? found : await usable(e, key, found, check);
  } catch (err) {
    if (ticket !== undefined) e.near?.end(ticket);
    throw err;
  }
  if (ticket !== undefined) {
    if (found !== undefined && valid !== undefined && found.state === 'fresh') {
      // The decoded value, not the check's output: every read checks (and transforms) it again.
      const freshUntil = found.envelope.createdMs + found.envelope.freshMs;
      e.near?.keep(ticket, found.envelope, found.value, freshUntil, now);
    } else e.near?.end(ticket);
  }
  return valid;
}

/** The stored bytes and Redis TTL of a serialized value; throws InvalidArgumentError when too big. */
export function frame(
  e: Engine,
  value: SerializedValue,
  nullish: boolean,
  o: ResolvedEntryOptions,
  tags: Array<[string, string]> | undefined,
): { bytes: Buffer; pxMs: number } {
  let freshMs = nullish && o.negativeTtlMs !== undefined ? o.negativeTtlMs : o.ttlMs;
  if (o.jitter > 0) freshMs *= 1 - Math.random() * o.jitter;
  freshMs = Math.max(1, Math.floor(freshMs));
  const staleMs = Math.ceil(o.staleMs);
  const staleIfErrorMs = Math.ceil(o.staleIfErrorMs);
  const meta = { createdMs: Date.now(), freshMs, staleMs, staleIfErrorMs, tags };
  return {
    bytes: frameEnvelope(value, meta, e.options.maxValueBytes),
    pxMs: freshMs + Math.max(staleMs, staleIfErrorMs),
  };
}

/** Refuses a value too large for the cache before anything is written (a tag version takes 24 bytes). */
export function checkFits(e: Engine, value: SerializedValue, o: ResolvedEntryOptions): void {
  frame(
    e,
    value,
    false,
    o,
    o.tags.map((t) => [t, 'x'.repeat(24)]),
  );
}

/** How long a tag's version outlives the entries tagged with it: their whole life, plus a minute. */
export function tagTtl(o: ResolvedEntryOptions): number {
  return Math.ceil(Math.max(o.ttlMs, o.negativeTtlMs ?? 0) + Math.max(o.staleMs, o.staleIfErrorMs)) + 60_000;
}

/** Keeps a background promise until it settles, so close() can wait for it. */
export function track(e: Engine, promise: Promise<unknown>): void {
  const settled = promise.catch(() => {}).finally(() => e.background.delete(settled));
  e.background.add(settled);
}
