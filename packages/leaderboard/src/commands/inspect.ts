import type { RedisConnection } from '@redis-patterns/connection';
import { type KeyPage, scanPage } from '@redis-patterns/connection/internal';
import type { BoardKeys } from '../board.js';
import { scripts } from '../lua.generated.js';

/*
 * The inspector's own commands (src/inspect.ts): a paged, resumable SCAN over the prefix, and the
 * size and expiry of the boards a page found. Reads of one board go through index.ts like any
 * board's.
 */

/** One page of a cluster-wide SCAN of `pattern`, resumable from `cursor` in any process. */
export function scanKeys(
  conn: RedisConnection,
  pattern: string,
  page: { cursor: string | undefined; count: number },
): Promise<KeyPage> {
  return scanPage(conn, pattern, page);
}

/**
 * Each board's size (ZCARD) and expiry (ms since 1970 from PTTL; -1 for none, -2 once gone),
 * from its scores key: two reads per board, sent together.
 */
export function sizesAndExpiries(
  conn: RedisConnection,
  scoresKeys: readonly string[],
): Promise<Array<[number, number]>> {
  // PTTL rather than PEXPIRETIME (Redis 7): the expiry is the local clock plus the time left, exact
  // to the round trip, and works on every Redis the package supports.
  return Promise.all(
    scoresKeys.map(async (key) => {
      const [size, ttl] = await Promise.all([
        conn.send<number>(['ZCARD', key], { key, readonly: true }),
        conn.send<number>(['PTTL', key], { key, readonly: true }),
      ]);
      return [size, ttl >= 0 ? Date.now() + ttl : ttl] as [number, number];
    }),
  );
}

/** Whether the board has a dense index (its `distinct` key), and its size, in one snapshot. */
export async function hasDenseIndex(conn: RedisConnection, keys: BoardKeys): Promise<[boolean, number]> {
  const reply = await conn.runScript<[number, number]>(
    scripts.denseIndex,
    [keys.scores, keys.data, keys.distinct],
    ['1', 'ordinal'],
    { readonly: true },
  );
  return [reply[0] === 1, reply[1]];
}

/** Round-trip time of a PING in ms. */
export function pingServer(conn: RedisConnection): Promise<number> {
  return conn.ping();
}
