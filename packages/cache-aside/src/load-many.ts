import { randomBytes } from 'node:crypto';
import { ConnectionError } from '@redis-patterns/connection';
import {
  BatchDirectives,
  callMany,
  failAll,
  loadWithoutCache,
  type ManyLoader,
  oneKey,
  openFlight,
  type Slot,
} from './batch-loader.js';
import { type Engine, examine, type Found, track } from './entries.js';
import { extendTags, minTagTtl, prepareEntry, refreshInBackground, uncached } from './load.js';
import type { LoadDirectives } from './loader-context.js';
import type { ReadTicket } from './near-cache.js';
import type { ResolvedEntryOptions } from './options.js';
import { hit, join, loadOnce } from './read-through.js';
import { checkLoaded, usable } from './validation.js';

/**
 * The batch cache-aside read: near cache, one read per slot for the rest, then one `loadMany` call
 * for the keys no one else is loading. Each key keeps the single-key guarantees: one flight per key
 * in this process (shared with `getOrLoad`), one lease per key across processes, the same counting.
 */
export async function getManyOrLoad<T>(
  e: Engine,
  keys: readonly string[],
  loadMany: ManyLoader<T>,
  o: ResolvedEntryOptions,
): Promise<T[]> {
  const deadline = performance.now() + e.options.leaseWaitMs;
  const pending = new Map<string, Promise<unknown>>();
  const owned: Slot[] = [];
  const now = Date.now();
  for (const key of keys) {
    if (pending.has(key)) continue;
    const near = e.near?.get(e.store.entryKey(key), now);
    if (near !== undefined && near.envelope.tags === undefined) {
      const found: Found = { envelope: near.envelope, state: 'fresh', value: near.value, tier: 'near' };
      const checked = usable(e, key, found, o.validate, false); // counted once, by the read below
      const valid = checked instanceof Promise ? await checked : checked;
      if (valid !== undefined) {
        e.telemetry.hit(key, 'near');
        pending.set(key, Promise.resolve(valid.value));
        continue;
      }
    }
    const flight = e.flights.get(key);
    if (flight !== undefined) pending.set(key, join(e, key, flight));
    else {
      const slot = openFlight(e, key);
      owned.push(slot);
      pending.set(key, slot.promise);
    }
  }
  if (owned.length > 0) {
    runBatch(e, owned, loadMany, o, deadline).catch((err: unknown) => {
      for (const slot of owned) slot.reject(err);
    });
  }
  return (await Promise.all(keys.map((key) => pending.get(key)))) as T[];
}

async function runBatch<T>(
  e: Engine,
  slots: Slot[],
  loadMany: ManyLoader<T>,
  o: ResolvedEntryOptions,
  deadline: number,
): Promise<void> {
  const first = (slots[0] as Slot).key;
  if (!e.conn.isReady) {
    e.telemetry.failure(
      'read',
      new ConnectionError('Redis is not connected: values come from the loader.'),
      first,
    );
    await new Promise((resolve) => setImmediate(resolve));
    return loadWithoutCache(e, slots, loadMany, o);
  }
  let found: Map<string, Found | undefined>;
  try {
    found = await readSlots(e, slots, o);
  } catch (err) {
    e.telemetry.failure('read', err, first);
    return loadWithoutCache(e, slots, loadMany, o);
  }
  const missing: Slot[] = [];
  for (const slot of slots) {
    const entry = found.get(slot.key);
    if (entry?.state === 'fresh') {
      hit(e, slot.answer, slot.key, entry.tier);
      slot.resolve(entry.value);
    } else if (entry?.state === 'stale') {
      hit(e, slot.answer, slot.key, 'redis', true);
      refreshInBackground(e, slot.key, oneKey(loadMany), o);
      slot.resolve(entry.value);
    } else {
      if (entry !== undefined) slot.fallback = entry;
      missing.push(slot);
    }
  }
  if (missing.length > 0) await leadMany(e, missing, loadMany, o, deadline);
}

/**
 * One MGET per slot (in parallel), each entry decoded and checked; fresh valid entries are kept in
 * the near cache as a `getOrLoad` read keeps them (a read racing an invalidation is not kept).
 */
async function readSlots(e: Engine, slots: Slot[], o: ResolvedEntryOptions) {
  const keys = slots.map((s) => s.key);
  const near = e.near;
  const tickets: Array<ReadTicket | undefined> =
    near === undefined ? [] : keys.map((k) => near.begin(e.store.entryKey(k)));
  const out = new Map<string, Found | undefined>();
  const now = Date.now();
  try {
    const raws = await e.store.readMany(keys, o.timeoutMs);
    await Promise.all(
      keys.map(async (key, i) => {
        const entry = await examine(e, key, raws.get(key) ?? null, o.timeoutMs, now);
        const valid = await usable(e, key, entry, o.validate);
        out.set(key, valid);
        const ticket = tickets[i];
        if (near === undefined || ticket === undefined) return;
        if (entry?.state === 'fresh' && valid !== undefined) {
          // The decoded value, not the check's output: every read checks (and transforms) it again.
          near.keep(
            ticket,
            entry.envelope,
            entry.value,
            entry.envelope.createdMs + entry.envelope.freshMs,
            now,
          );
        } else near.end(ticket);
        tickets[i] = undefined;
      }),
    );
  } catch (err) {
    for (const ticket of tickets) if (ticket !== undefined) near?.end(ticket);
    throw err;
  }
  return out;
}

/**
 * Takes the leases of the missing keys (one script per slot). Keys leased by another process take
 * the single-key path (wait for its value, or take over); the rest are loaded by one loadMany call.
 */
async function leadMany<T>(
  e: Engine,
  slots: Slot[],
  loadMany: ManyLoader<T>,
  o: ResolvedEntryOptions,
  deadline: number,
): Promise<void> {
  const token = randomBytes(12).toString('base64url');
  let leases: Map<string, { won: boolean; raw: string | null }>;
  try {
    leases = await e.store.acquireMany(
      slots.map((s) => s.key),
      token,
      e.options.leaseTtlMs,
      o.timeoutMs,
    );
  } catch (err) {
    e.telemetry.failure('lease', err, (slots[0] as Slot).key);
    // Leases of the slots whose script did answer would hold other processes off: give them back.
    giveBack(
      e,
      slots.map((s) => s.key),
      token,
      o,
    );
    return loadWithoutCache(e, slots, loadMany, o);
  }
  const won: Slot[] = [];
  await Promise.all(
    slots.map(async (slot) => {
      const lease = leases.get(slot.key);
      if (lease?.won !== true) {
        loadOnce(e, slot.key, oneKey(loadMany), o, slot.fallback, deadline, slot.answer).then(
          slot.resolve,
          slot.reject,
        );
        return;
      }
      // Another process may have committed between our read and the lease: then it is a hit.
      const read = await Promise.resolve(examine(e, slot.key, lease.raw, o.timeoutMs, Date.now(), false))
        .then((entry) => usable(e, slot.key, entry, o.validate, false))
        .catch(() => undefined);
      if (read?.state === 'fresh') {
        track(e, e.store.release(slot.key, token, o.timeoutMs));
        hit(e, slot.answer, slot.key, 'redis');
        slot.resolve(read.value);
      } else won.push(slot);
    }),
  );
  if (won.length > 0) await loadAndCommit(e, won, token, loadMany, o);
}

/**
 * The leader of `slots` (their leases are `token`'s): one loadMany call with the leases renewed
 * meanwhile, each value checked, then the cacheable ones written in one script per slot. A value
 * refused (check, TTL, size) fails its own key only; its lease and those of skipped values are released.
 */
async function loadAndCommit<T>(
  e: Engine,
  slots: Slot[],
  token: string,
  loadMany: ManyLoader<T>,
  o: ResolvedEntryOptions,
): Promise<void> {
  const keys = slots.map((s) => s.key);
  for (const key of keys) e.telemetry.miss(key);
  const { leaseTtlMs } = e.options;
  const heartbeat = setInterval(
    () => {
      e.store.extendMany(keys, token, leaseTtlMs, o.timeoutMs).catch(() => {});
    },
    Math.max(10, Math.floor(leaseTtlMs / 3)),
  );
  heartbeat.unref();
  const batch = new BatchDirectives(keys);
  let tags: Array<[string, string]> | undefined;
  let loaded: Map<string, unknown>;
  try {
    // Versions are read BEFORE loading: an invalidation during the load then spoils these entries.
    if (o.tags.length > 0)
      tags = await e.store.ensureTags(o.tags, minTagTtl(e, o), o.timeoutMs).catch((err) => {
        e.telemetry.failure('tags', err, keys[0]);
        return undefined;
      });
    loaded = await callMany(e, keys, loadMany, batch);
  } catch (err) {
    giveBack(e, keys, token, o);
    return failAll(e, slots, err, batch, o);
  } finally {
    clearInterval(heartbeat);
  }
  const writes: Array<{ key: string; bytes: Buffer; pxMs: number }> = [];
  const answers: Array<[Slot, unknown]> = [];
  const release: string[] = [];
  let longest = o;
  for (const slot of slots) {
    const d = batch.byKey.get(slot.key) as LoadDirectives;
    const value = loaded.get(slot.key);
    try {
      const refused = batch.error ?? d.error;
      if (refused !== undefined) throw refused;
      const out = await checkLoaded(o.validate, slot.key, value);
      const chosen = d.apply(o);
      if (uncached(value, o, tags, d)) release.push(slot.key);
      else {
        writes.push({ key: slot.key, ...prepareEntry(e, value, chosen, tags) });
        if (minTagTtl(e, chosen) > minTagTtl(e, longest)) longest = chosen;
      }
      answers.push([slot, out]);
    } catch (err) {
      release.push(slot.key);
      slot.reject(err);
    }
  }
  if (release.length > 0) giveBack(e, release, token, o);
  if (writes.length > 0) {
    await extendTags(e, keys[0] as string, o, longest, tags);
    for (const w of writes) e.near?.invalidate(e.store.entryKey(w.key));
    try {
      await e.store.commitMany(writes, token, o.timeoutMs);
    } catch (err) {
      e.telemetry.failure('write', err, keys[0]);
      // A slot whose commit did not land still holds its lease: give the leases back.
      giveBack(
        e,
        writes.map((w) => w.key),
        token,
        o,
      );
    }
    for (const w of writes) e.near?.invalidate(e.store.entryKey(w.key));
  }
  for (const [slot, out] of answers) slot.resolve(out);
}

/** Gives the leases of `keys` taken with `token` back in the background (a no-op for any not ours). */
function giveBack(e: Engine, keys: string[], token: string, o: ResolvedEntryOptions): void {
  track(e, e.store.releaseMany(keys, token, o.timeoutMs));
}
