import type { RedisLike } from '@redis-patterns/connection';
import type { CycleFunction, CycleName } from './cycles.js';
import type { LeaderboardOptions } from './options.js';
import type { Leaderboard, LeaderboardEntry, ReadOptions, WriteOptions } from './types.js';

/** One board of a matrix: a board's format and update policy, and a cycle if it is periodic. */
export interface MatrixBoardOptions
  extends Omit<LeaderboardOptions, 'redis' | 'name' | 'prefix' | 'maxDataBytes'> {
  /** Makes the board periodic: `daily`, `weekly` (ISO), `monthly` (UTC) or a cycle function. @default undefined (not periodic) */
  cycle?: CycleName | CycleFunction;
  /** Periodic boards: finished cycles kept before their keys expire. @default 1 */
  keepCycles?: number;
}

/** Options of {@link createLeaderboardMatrix}. */
export interface LeaderboardMatrixOptions {
  /** A connection from `connect()` or a node-redis client, cluster or sentinel. */
  redis: RedisLike;
  /** The matrix's name: the hash tag of every key of every board in it, so one script writes them all. */
  name: string;
  /** Prepended to every key. @default 'lb:' */
  prefix?: string;
  /** The boards, by id (e.g. `allTime`, `weekly`, `eu`), each with its own options. At most 64. */
  boards: Record<string, MatrixBoardOptions>;
  /** The most bytes of JSON member data one submit may store. @default 65536 */
  maxDataBytes?: number;
  /** The clock that picks the current cycle of periodic boards. @default () => new Date() */
  now?: () => Date;
}

/** Options of {@link LeaderboardMatrix.submit}. */
export interface MatrixWriteOptions<TData> extends WriteOptions<TData> {
  /** Write only these boards (e.g. the player's region and the global ones). @default every board */
  boards?: string[];
}

/** Options of {@link LeaderboardMatrix.entry}. */
export interface MatrixReadOptions extends ReadOptions {
  /** Read only these boards. @default every board */
  boards?: string[];
}

/** Several boards under one hash tag, written together by one atomic script. */
export interface LeaderboardMatrix<TData = unknown> {
  /** The matrix's name (its hash tag). */
  readonly name: string;
  /** The ids of its boards, in declaration order. */
  readonly boards: readonly string[];
  /**
   * Writes one score to every board (or `options.boards`), each under its own update policy
   * (`increment` boards add it), in one atomic script: no reader sees one board updated and another
   * not, and a refused submit writes nothing. Resolves to each board's score for the member after
   * the write (null when `keepTop` trimmed it off). O(b log n) for b boards.
   */
  submit(
    member: string,
    score: number,
    options?: MatrixWriteOptions<TData>,
  ): Promise<Record<string, number | null>>;
  /** The member's entry on every board (or `options.boards`), read in one atomic script. O(b log n). */
  entry(member: string, options?: MatrixReadOptions): Promise<Record<string, LeaderboardEntry<TData> | null>>;
  /**
   * The best `n` members of board `id`, in its order, each with its entry on every board (or
   * `options.boards`; board `id` is always read), in one atomic script: redis-rank's matrix `top`.
   * O(n b log N).
   *
   * @example
   * ```ts
   * const rows = await matrix.top('weekly', 10); // [{ weekly: { member, score, rank }, allTime: {...} | null, ... }]
   * ```
   */
  top(
    id: string,
    n: number,
    options?: MatrixReadOptions,
  ): Promise<Array<Record<string, LeaderboardEntry<TData> | null>>>;
  /**
   * One board, to read (top, around, among...) or write alone; a periodic board's cycle containing
   * `at` (default: now).
   */
  board(id: string, at?: Date): Leaderboard<TData>;
  /** Refuses later calls, here and on its boards, with `ClosedError`. The connection stays open. */
  close(): Promise<void>;
  /** Same as {@link LeaderboardMatrix.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
