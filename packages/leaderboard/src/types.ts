/** One member's place on a board. */
export interface LeaderboardEntry<TData = unknown> {
  /** The member's id. */
  member: string;
  /** The member's score (without any tie-break encoding). */
  score: number;
  /** 1-based, under the board's tie rule. */
  rank: number;
  /** The member data, when the read asked for it (`withData: true`); undefined if none was stored. */
  data?: TData | undefined;
}

/** Read options of the entry-returning methods. */
export interface ReadOptions {
  /** Fetch each entry's member data in the same round trip. @default false */
  withData?: boolean;
}

/** Options of {@link Leaderboard.around}. */
export interface AroundOptions extends ReadOptions {
  /**
   * Near the top or bottom, take the missing neighbours from the other side so that
   * `2 * radius + 1` entries come back whenever the board has that many.
   * @default false
   */
  fillBorders?: boolean;
}

/** Options of {@link Leaderboard.scoreRange}. */
export interface ScoreRangeOptions extends ReadOptions {
  /** Return at most this many entries (the best ones in the range). @default no limit */
  limit?: number;
}

/** Options of {@link Leaderboard.iterate}. */
export interface IterateOptions extends ReadOptions {
  /** Entries fetched per round trip. @default 500 */
  batch?: number;
}

/** Options of {@link Leaderboard.among}. */
export interface AmongOptions extends AroundOptions {
  /**
   * The member to locate among the set (e.g. the player whose friends these are). It is ranked
   * with the set even when `members` does not list it. @default undefined (no `entry`, no `around`)
   */
  member?: string;
  /** Neighbours of `member` on each side, within the set. @default 0 */
  radius?: number;
  /** How many of the set's best entries to return in `top` (0 for none). @default 10 */
  top?: number;
}

/** What {@link Leaderboard.among} returns: a board restricted to a set of members. */
export interface SubsetStanding<TData = unknown> {
  /** How many members of the set are on the board (members without a score are left out). */
  count: number;
  /** The set's best `top` entries, best first; ranks count within the set. */
  top: LeaderboardEntry<TData>[];
  /** `member`'s entry within the set, or null when it was not asked for or is not on the board. */
  entry: LeaderboardEntry<TData> | null;
  /** `member` and up to `radius` neighbours on each side within the set; empty when `entry` is null. */
  around: LeaderboardEntry<TData>[];
}

/** Options of a write. */
export interface WriteOptions<TData> {
  /** Member data stored with the score (JSON), in the same atomic step. @default undefined (data untouched) */
  data?: TData;
}

/** One entry of {@link Leaderboard.submitMany}. */
export interface Submission<TData> {
  /** The member's id: a non-empty string of at most 1,024 characters. */
  member: string;
  /** The score, applied under the board's update policy (added under `increment`). */
  score: number;
  /** Member data stored with the score. @default undefined (data untouched) */
  data?: TData;
}

/**
 * A sorted-set leaderboard. Every method is one round trip to Redis; reads that need ranks under a
 * tie rule, neighbours or member data get them from one Lua script.
 */
export interface Leaderboard<TData = unknown> {
  /** The board's name (its hash tag). */
  readonly name: string;
  /** The largest |score| the board stores exactly: 2^(53 − tieBreakBits) − 1 with earlier-first, else Infinity. */
  readonly maxScore: number;
  /**
   * Writes a score under the update policy (`replace`, `best`: kept only if better, `increment`:
   * added). Resolves to the member's score after the write, or null if `keepTop` trimmed it off.
   * With `best`, data is stored only when the score is taken. O(log n).
   */
  submit(member: string, score: number, options?: WriteOptions<TData>): Promise<number | null>;
  /** Adds `by` to the member's score (from 0 if absent), whatever the update policy. O(log n). */
  increment(member: string, by: number, options?: WriteOptions<TData>): Promise<number | null>;
  /**
   * Many submits in one atomic script per 1,000 entries (Redis blocks other clients meanwhile).
   * Resolves to each member's score after the batch, in order. Increments out of range reject the
   * whole batch; on earlier-first boards, a score that would hold more than 2^tieBreakBits members
   * stops the batch at that entry, earlier entries staying written.
   */
  submitMany(entries: Submission<TData>[]): Promise<Array<number | null>>;
  /** Removes members and their data; resolves to how many were on the board. O(m log n). */
  remove(members: string | string[]): Promise<number>;
  /** Deletes the board: scores, data and its indexes. */
  clear(): Promise<void>;
  /** The member's score, or null. O(1). */
  score(member: string): Promise<number | null>;
  /** The member's 1-based rank under the tie rule, or null. O(log n). */
  rank(member: string): Promise<number | null>;
  /** The member's score, rank and (if asked) data, or null. O(log n). */
  entry(member: string, options?: ReadOptions): Promise<LeaderboardEntry<TData> | null>;
  /** The best `n` entries. O(log n + n). */
  top(n: number, options?: ReadOptions): Promise<LeaderboardEntry<TData>[]>;
  /** Page `page` (1-based) of `size` entries. O(log n + size). */
  page(page: number, size: number, options?: ReadOptions): Promise<LeaderboardEntry<TData>[]>;
  /**
   * The member and up to `radius` neighbours on each side, ranks and data included, in one round
   * trip; empty when the member is not on the board. O(log n + radius).
   */
  around(member: string, radius: number, options?: AroundOptions): Promise<LeaderboardEntry<TData>[]>;
  /**
   * The first entry (in board order) holding `rank` under the tie rule, or null: past the end, or a
   * rank that competition ranking skips (1, 2, 2, 4 has no 3). O(log n).
   */
  atRank(rank: number, options?: ReadOptions): Promise<LeaderboardEntry<TData> | null>;
  /** Entries of the given members (e.g. friends), in the given order; null for absent ones. O(m log n). */
  rankedList(members: string[], options?: ReadOptions): Promise<Array<LeaderboardEntry<TData> | null>>;
  /**
   * The board restricted to `members` (friends, a country): the set's top entries, and `member`'s
   * rank and neighbours within the set, ordered and ranked exactly as the full board orders them
   * (tie rule and tie-break included), in one round trip. Members not on the board are left out.
   * Nothing is copied: one script reads the k members' scores and sorts them, O(k log k) (plus
   * O(log n) per member tied with another on a board without tie-break). At most 10,000 members.
   *
   * @example
   * ```ts
   * const friends = await board.among(['u7', 'u9', 'u12'], { member: 'u42', radius: 1, top: 3 });
   * // friends.entry: u42's rank among u42 and its friends; friends.top: the best 3 of them
   * ```
   */
  among(members: string[], options?: AmongOptions): Promise<SubsetStanding<TData>>;
  /**
   * The share of the board ranked strictly below the member, in percent (0-100): "better than X%".
   * Under dense and competition ties, members with an equal score are not below. Null if absent. O(log n).
   */
  percentile(member: string): Promise<number | null>;
  /** How many members the board holds. O(1). */
  count(): Promise<number>;
  /** Entries with min <= score <= max, best first. O(log n + m). */
  scoreRange(min: number, max: number, options?: ScoreRangeOptions): Promise<LeaderboardEntry<TData>[]>;
  /**
   * Every entry, best first, `batch` per round trip. Not a snapshot: a member whose rank changes
   * while iterating may be seen twice or not at all.
   */
  iterate(options?: IterateOptions): AsyncIterableIterator<LeaderboardEntry<TData>>;
  /**
   * Refuses later calls with `ClosedError`; calls already made finish on their own. The connection
   * stays open: close it yourself.
   */
  close(): Promise<void>;
  /** Same as {@link Leaderboard.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
