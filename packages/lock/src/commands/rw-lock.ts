/**
 * The commands of read/write locks: read and write attempts, batched per tick and hash slot, and
 * withdrawing a waiting writer's intent. Releases and extensions are those of the semaphore's
 * sorted sets of holders (semaphore.ts). Keys of one name share the hash tag `{name}`:
 *   <prefix>{name}:readers    the readers: a sorted set of owners, score = expiry in server ms
 *   <prefix>{name}:writer     the writer: the same, at most one member
 *   <prefix>{name}:intents    writers waiting for the lock, score = when their intent lapses
 *   <prefix>{name}:fence      the fencing counter, shared by readers and writers
 *   <prefix>{name}:released   sharded pub/sub channel: one message per release (wakes waiters)
 */
import type { Keyspace, RedisConnection } from '@redis-patterns/connection';
import { ScriptBatcher } from '@redis-patterns/connection/internal';
import { scripts } from '../lua.generated.js';
import { shortest } from './semaphore.js';

/** The keys and channel of one read/write lock name. */
export interface RwKeys {
  readers: string;
  writer: string;
  intents: string;
  fence: string;
  channel: string;
}

/** The keys of read/write lock `name` in `keyspace` (see the top of this file). */
export function rwKeys(keyspace: Keyspace, name: string): RwKeys {
  const base = keyspace.key(name);
  return {
    readers: `${base}:readers`,
    writer: `${base}:writer`,
    intents: `${base}:intents`,
    fence: `${base}:fence`,
    channel: `${base}:released`,
  };
}

/** One read or write attempt. */
export interface RwRequest {
  keys: RwKeys;
  mode: 'read' | 'write';
  owner: string;
  ttlMs: number;
  /** The waiting writer's id, renewed by each of its attempts. */
  intent: string;
  /** How long a refused writer's intent lasts; 0: a one-off attempt that leaves no intent. */
  intentMs: number;
  /** The bound of this attempt, or undefined for the connection's `commandTimeoutMs`. */
  timeoutMs: number | undefined;
}

/** A grant and its token, or how long until the earliest of what blocks it runs out. */
export type RwAttempt = { granted: true; fencingToken: number } | { granted: false; heldForMs: number };

const MAX_BATCH = 100;
const batchers = new WeakMap<RedisConnection, ScriptBatcher<RwRequest, RwAttempt>>();

/** One attempt, one round trip (see scripts.rwAcquire); attempts made together share a script call. */
export function attemptRw(conn: RedisConnection, request: RwRequest): Promise<RwAttempt> {
  let batcher = batchers.get(conn);
  if (batcher === undefined) {
    batcher = new ScriptBatcher<RwRequest, RwAttempt>(conn, {
      single: scripts.rwAcquire,
      batch: scripts.rwAcquire,
      max: MAX_BATCH,
      keyOf: (r) => r.keys.readers,
      argsOf: (requests) => {
        const keys: string[] = [];
        const args: string[] = [];
        for (const r of requests) {
          keys.push(r.keys.readers, r.keys.writer, r.keys.intents, r.keys.fence);
          args.push(r.mode === 'read' ? 'r' : 'w', r.owner, String(r.ttlMs), r.intent, String(r.intentMs));
        }
        return { keys, args };
      },
      layout: { first: 0, slots: 2 },
      decode: (reply, at) => {
        const r = reply as number[];
        return r[at] === 1
          ? { granted: true, fencingToken: Number(r[at + 1]) }
          : { granted: false, heldForMs: Number(r[at + 1]) };
      },
      timeoutMs: shortest,
    });
    batchers.set(conn, batcher);
  }
  return batcher.call(request);
}

/**
 * A writer stops waiting: its intent no longer holds readers back, and they are woken at once
 * (see scripts.rwWithdraw; best effort: the intent lapses anyway).
 */
export async function withdrawIntent(
  conn: RedisConnection,
  keys: RwKeys,
  intent: string,
  instance: string,
): Promise<void> {
  await conn.runScript(scripts.rwWithdraw, [keys.intents], [intent, keys.channel, instance]);
}
