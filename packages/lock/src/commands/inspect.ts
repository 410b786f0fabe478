/**
 * The commands of the inspect API: one SCAN page over the masters, reading one name's holders and
 * waiters (every kind of lock, one read-only script), and force-releasing a name or one holder. The
 * keys are described in index.ts (mutex), semaphore.ts and rw-lock.ts; all three kinds share
 * `<prefix>{name}:fence` and the release channel `<prefix>{name}:released`.
 */
import type { Keyspace, RedisConnection } from '@redis-patterns/connection';
import { type KeyPage, scanPage } from '@redis-patterns/connection/internal';
import { scripts } from '../lua.generated.js';

/** Every key of one name the inspect scripts read, whatever its kind. */
export interface NameKeys {
  base: string;
  fence: string;
  waiters: string;
  queue: string;
  marks: string;
  readers: string;
  writer: string;
  intents: string;
  channel: string;
}

/** The keys of `name` in `keyspace`, for every kind of lock. */
export function nameKeys(keyspace: Keyspace, name: string): NameKeys {
  const base = keyspace.key(name);
  const at = (part: string) => `${base}:${part}`;
  return {
    base,
    fence: at('fence'),
    waiters: at('waiters'),
    queue: at('queue'),
    marks: at('marks'),
    readers: at('readers'),
    writer: at('writer'),
    intents: at('intents'),
    channel: at('released'),
  };
}

/** One page of a cluster-wide SCAN of `pattern`, resumable from `cursor` in any process. */
export function scanKeys(
  conn: RedisConnection,
  pattern: string,
  page: { cursor: string | undefined; count: number },
): Promise<KeyPage> {
  return scanPage(conn, pattern, page);
}

/** What scripts.inspect read for one name (see src/lua/inspect.lua). */
export interface NameReading {
  kind: 'mutex' | 'semaphore' | 'read-write' | 'none';
  /** The fencing counter: the token of the name's latest grant. */
  fence: number | undefined;
  /** The server's clock, ms. */
  now: number;
  /** Flat [member, score-or-pttl, ...] lists, by kind (see the script). */
  lists: [string[], string[], string[]];
  /** Live holders in all (the lists may be cut at `cap`). */
  holders: number;
}

/** Reads one name's holders and waiters, at most `cap` entries per set; writes nothing. */
export async function readName(conn: RedisConnection, keys: NameKeys, cap: number): Promise<NameReading> {
  const { base, fence, waiters, queue, marks, readers, writer, intents } = keys;
  const reply = await conn.runScript<unknown[]>(
    scripts.inspect,
    [base, fence, waiters, queue, marks, readers, writer, intents],
    [String(cap)],
  );
  const list = (at: number) => ((reply[at] as unknown[]) ?? []).map(String);
  return {
    kind: String(reply[0]) as NameReading['kind'],
    fence: reply[1] === null || reply[1] === undefined ? undefined : Number(reply[1]),
    now: Number(reply[2]),
    lists: [list(3), list(4), list(5)],
    holders: Number(reply[6]),
  };
}

/** True if `key` exists (a read/write lock's writer key, when listing by its readers key). */
export async function keyExists(conn: RedisConnection, key: string): Promise<boolean> {
  return (await conn.send<number>(['EXISTS', key], { key, readonly: true })) === 1;
}

/** Removes every grant of the name and wakes its waiters; how many live grants it removed. */
export async function releaseName(conn: RedisConnection, keys: NameKeys): Promise<number> {
  return Number(
    await conn.runScript<number>(
      scripts.forceReleaseName,
      [keys.base, keys.readers, keys.writer],
      [keys.channel],
    ),
  );
}

/** Removes the grant of `owner` on the name and wakes its waiters; true if it was live. */
export async function releaseOne(conn: RedisConnection, keys: NameKeys, owner: string): Promise<boolean> {
  const removed = await conn.runScript<number>(
    scripts.forceReleaseHolder,
    [keys.base, keys.readers, keys.writer],
    [owner, keys.channel],
  );
  return Number(removed) === 1;
}

/** Round-trip time of a PING, in ms. */
export function pingServer(conn: RedisConnection): Promise<number> {
  return conn.ping();
}
