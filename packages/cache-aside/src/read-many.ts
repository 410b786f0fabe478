import { InvalidArgumentError } from '@redis-patterns/connection';
import { type Engine, examine, type Found } from './entries.js';
import { checkCacheKey, type ResolvedEntryOptions } from './options.js';
import { usable } from './validation.js';

/** Throws InvalidArgumentError unless `keys` is an array of valid cache keys. */
export function checkKeys(keys: unknown): asserts keys is readonly string[] {
  if (!Array.isArray(keys)) throw new InvalidArgumentError('keys', 'expected an array of keys.');
  for (const key of keys) checkCacheKey(key);
}

/** Counts a plain read as a hit or a miss; true when the value is usable. */
export function countRead(
  e: Engine,
  key: string,
  found: Found | undefined,
  allowStale: boolean | undefined,
): boolean {
  const ok = found?.state === 'fresh' || (allowStale === true && found?.state === 'stale');
  if (ok && found !== undefined) e.telemetry.hit(key, found.tier, found.state === 'stale', 'allow-stale');
  else e.telemetry.miss(key);
  return ok;
}

/** {@link Cache.getMany}: the near cache, then one MGET per slot; values that fail the check are misses. */
export async function readMany<T>(
  e: Engine,
  keys: readonly string[],
  o: ResolvedEntryOptions,
  allowStale: boolean | undefined,
): Promise<Array<T | undefined>> {
  const now = Date.now();
  const out = new Map<string, Found | undefined>();
  const remote: string[] = [];
  try {
    for (const key of new Set(keys)) {
      const hit = e.near?.get(e.store.entryKey(key), now);
      // A tagged near-cache copy must have its tags checked in Redis like any other read.
      if (hit === undefined || hit.envelope.tags !== undefined) remote.push(key);
      else {
        const found: Found = { envelope: hit.envelope, state: 'fresh', value: hit.value, tier: 'near' };
        const valid = await usable(e, key, found, o.validate, false); // counted once, by the read below
        if (valid === undefined) remote.push(key);
        else out.set(key, valid);
      }
    }
    const raws = await e.store.readMany(remote, o.timeoutMs);
    await Promise.all(
      remote.map(async (k) => {
        const entry = await examine(e, k, raws.get(k) ?? null, o.timeoutMs, now);
        out.set(k, await usable(e, k, entry, o.validate));
      }),
    );
  } catch (err) {
    for (const key of keys) e.telemetry.miss(key);
    throw err;
  }
  return keys.map((k) => {
    const found = out.get(k);
    return countRead(e, k, found, allowStale) ? (found?.value as T) : undefined;
  });
}
