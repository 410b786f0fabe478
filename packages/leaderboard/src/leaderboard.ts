import { createKeyspace, type Keyspace, toConnection } from '@redis-patterns/connection';
import { type BoardKeys, createBoard } from './board.js';
import { type LeaderboardOptions, resolveSettings } from './options.js';
import type { Leaderboard } from './types.js';

/** The keys of a board under `keyspace`: `<prefix>{<name>}:<suffix>scores`, `...data`, `...distinct`. */
export function boardKeys(keyspace: Keyspace, name: string, suffix: string[] = []): BoardKeys {
  const key = (part: string) => keyspace.key(name, ...suffix, part);
  return { scores: key('scores'), data: key('data'), distinct: key('distinct') };
}

/**
 * Creates a leaderboard: a Redis sorted set with an update policy, 1-based ranks under a tie rule,
 * an optional earlier-first tie-break, member data in a hash of the same slot, and an optional
 * `keepTop` bound. Synchronous: nothing is sent until a method is called.
 *
 * @example
 * ```ts
 * import { connect, createLeaderboard } from '@redis-patterns/leaderboard';
 *
 * const redis = await connect(); // REDIS_URL, else redis://127.0.0.1:6379
 * const board = createLeaderboard<{ nick: string }>({
 *   redis, name: 'arcade', updatePolicy: 'best', ties: 'competition', tieBreak: 'earlier-first',
 * });
 * await board.submit('u42', 1_200, { data: { nick: 'ada' } });
 * const top10 = await board.top(10, { withData: true });
 * const mine = await board.around('u42', 2, { fillBorders: true });
 * ```
 */
export function createLeaderboard<TData = unknown>(options: LeaderboardOptions): Leaderboard<TData> {
  const { name, prefix, settings } = resolveSettings(options);
  const conn = toConnection(options.redis);
  return createBoard<TData>({ conn, name, keys: boardKeys(createKeyspace(prefix), name), settings });
}
