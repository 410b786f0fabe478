/**
 * The commands of counting semaphores (and of the sorted sets of holders that read/write locks
 * reuse): permit attempts and releases, batched per tick and hash slot, extensions, and the
 * clean-up of an attempt whose reply never came. Keys of one semaphore name share the hash tag
 * `{name}`, so one script can touch them all on Cluster:
 *   <prefix>{name}            the holders: a sorted set, member `<slot>:<owner>`, score = expiry
 *                             in server ms (expires with its last holder)
 *   <prefix>{name}:fence      the fencing counter (INCR per grant, never expires)
 *   <prefix>{name}:released   sharded pub/sub channel: one message per release (wakes waiters)
 */
import type { Keyspace, RedisConnection } from '@redis-patterns/connection';
import { ScriptBatcher } from '@redis-patterns/connection/internal';
import { scripts } from '../lua.generated.js';

/** The keys and channel of one semaphore name. */
export interface SemaphoreKeys {
  holders: string;
  fence: string;
  channel: string;
}

/** The keys of semaphore `name` in `keyspace` (see the top of this file). */
export function semaphoreKeys(keyspace: Keyspace, name: string): SemaphoreKeys {
  const holders = keyspace.key(name);
  return { holders, fence: `${holders}:fence`, channel: `${holders}:released` };
}

/** One permit attempt: who asks, under which limit, for how long, within which bound. */
export interface PermitRequest {
  keys: SemaphoreKeys;
  owner: string;
  permits: number;
  ttlMs: number;
  /** The bound of this attempt, or undefined for the connection's `commandTimeoutMs`. */
  timeoutMs: number | undefined;
}

/**
 * A grant (its token, its slot, and how many permits the caller's limit still leaves free), or how
 * long until the earliest holder's TTL runs out.
 */
export type PermitAttempt =
  | { granted: true; fencingToken: number; slot: number; free: number }
  | { granted: false; heldForMs: number };

/** Most attempts (or releases) in one script call. */
const MAX_BATCH = 100;

const attemptBatchers = new WeakMap<RedisConnection, ScriptBatcher<PermitRequest, PermitAttempt>>();

/** The shortest bound among `calls`, or undefined if none has one. */
export function shortest(calls: readonly { timeoutMs: number | undefined }[]): number | undefined {
  let bound: number | undefined;
  for (const c of calls) if (c.timeoutMs !== undefined) bound = Math.min(bound ?? c.timeoutMs, c.timeoutMs);
  return bound;
}

/**
 * One permit attempt, one round trip (see scripts.semaphoreAcquire). Attempts made while another is
 * in flight share one script call per hash slot, in call order.
 */
export function attemptPermit(conn: RedisConnection, request: PermitRequest): Promise<PermitAttempt> {
  let batcher = attemptBatchers.get(conn);
  if (batcher === undefined) {
    batcher = new ScriptBatcher<PermitRequest, PermitAttempt>(conn, {
      single: scripts.semaphoreAcquire,
      batch: scripts.semaphoreAcquire,
      max: MAX_BATCH,
      keyOf: (r) => r.keys.holders,
      argsOf: (requests) => {
        const keys: string[] = [];
        const args: string[] = [];
        for (const r of requests) {
          keys.push(r.keys.holders, r.keys.fence);
          args.push(r.owner, String(r.permits), String(r.ttlMs));
        }
        return { keys, args };
      },
      layout: { first: 0, slots: 4 },
      decode: (reply, at) => {
        const r = reply as number[];
        return r[at] === 1
          ? {
              granted: true,
              fencingToken: Number(r[at + 1]),
              slot: Number(r[at + 2]),
              free: Number(r[at + 3]),
            }
          : { granted: false, heldForMs: Number(r[at + 1]) };
      },
      timeoutMs: shortest,
    });
    attemptBatchers.set(conn, batcher);
  }
  return batcher.call(request);
}

/** One holder to release from a sorted set of holders, and the message that wakes its waiters. */
export interface HolderRelease {
  holders: string;
  member: string;
  channel: string;
  instance: string;
}

const releaseBatchers = new WeakMap<RedisConnection, ScriptBatcher<HolderRelease, boolean>>();

/**
 * Removes `member` from `holders` and wakes the name's waiters (see scripts.semaphoreRelease);
 * true if it still held a live permit. Releases made while another is in flight share one script
 * call per hash slot.
 */
export function releaseHolder(conn: RedisConnection, release: HolderRelease): Promise<boolean> {
  let batcher = releaseBatchers.get(conn);
  if (batcher === undefined) {
    batcher = new ScriptBatcher<HolderRelease, boolean>(conn, {
      single: scripts.semaphoreRelease,
      batch: scripts.semaphoreRelease,
      max: MAX_BATCH,
      keyOf: (r) => r.holders,
      argsOf: (releases) => ({
        keys: releases.map((r) => r.holders),
        args: releases.flatMap((r) => [r.member, r.channel, r.instance]),
      }),
      layout: { first: 0, slots: 1 },
      decode: (reply, at) => (reply as number[])[at] === 1,
    });
    releaseBatchers.set(conn, batcher);
  }
  return batcher.call(release);
}

/** Sets the TTL of `member` to `ttlMs` from now; false if it is gone or expired. */
export async function extendHolder(
  conn: RedisConnection,
  holders: string,
  member: string,
  ttlMs: number,
  timeoutMs: number | undefined,
): Promise<boolean> {
  const reply = await conn.runScript<number>(
    scripts.semaphoreExtend,
    [holders],
    [member, String(ttlMs)],
    timeoutMs === undefined ? {} : { timeoutMs },
  );
  return reply === 1;
}

/** Removes the holder `owner`, whatever its slot, and wakes the waiters; true if there was one. */
export async function giveBackPermit(
  conn: RedisConnection,
  keys: SemaphoreKeys,
  owner: string,
  instance: string,
): Promise<boolean> {
  const reply = await conn.runScript<number>(
    scripts.semaphoreGiveBack,
    [keys.holders],
    [owner, keys.channel, instance],
  );
  return reply === 1;
}

/** How many holders of `holders` are live (their TTL has not run out), by the server's clock. */
export async function countLive(conn: RedisConnection, holders: string): Promise<number> {
  const [seconds, micros] = await conn.send<[string, string]>(['TIME'], { key: holders });
  const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  return conn.send<number>(['ZCOUNT', holders, `(${now}`, '+inf'], { key: holders, readonly: true });
}
