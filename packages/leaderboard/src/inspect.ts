import {
  ClosedError,
  checkKeyPart,
  createKeyspace,
  escapeGlob,
  InvalidArgumentError,
  type RedisLike,
  toConnection,
} from '@redis-patterns/connection';
import { checkInteger, checkOptions, checkPage } from '@redis-patterns/connection/internal';
import { createBoard } from './board.js';
import { boardCommands } from './commands/index.js';
import { hasDenseIndex, pingServer, scanKeys, sizesAndExpiries } from './commands/inspect.js';
import { type BoardRef, checkRef, describeKey, type InspectedBoard } from './inspect-layout.js';
import { boardKeys } from './leaderboard.js';
import { type LeaderboardOptions, resolveSettings } from './options.js';
import { instrumentLeaderboardInspector } from './otel.js';
import type { LeaderboardEntry, ReadOptions } from './types.js';

/** Options of {@link createLeaderboardInspector}: only what a CLI knows, a connection and a prefix. */
export interface LeaderboardInspectorOptions {
  /** A connection from `connect()`, or a node-redis client, cluster or sentinel. */
  redis: RedisLike;
  /** The prefix the boards were created with. @default 'lb:' */
  prefix?: string;
}

/** Where a listing starts and how long a page is. */
export interface LeaderboardPageOptions {
  /** The `cursor` of the previous page; leave it out for the first page. */
  cursor?: string | undefined;
  /** Most keys looked at for this page. @default 100 (at most 1000) */
  count?: number | undefined;
}

/** One page of a listing. */
export interface LeaderboardPage<T> {
  /** What this page found; may be shorter than `count` (or empty) while `cursor` is set. */
  items: T[];
  /** Pass it back for the next page; undefined when the listing is complete. */
  cursor: string | undefined;
}

/**
 * How a board stores its scores. Redis does not record it, so give the board's own options (the
 * package defaults otherwise); ranks and scores are read wrong with the wrong ones.
 */
export type BoardFormat = Pick<LeaderboardOptions, 'order' | 'ties' | 'tieBreak' | 'tieBreakBits'>;

/** Options of the reads of {@link LeaderboardInspector}: the board's format and whether to fetch member data. */
export interface InspectReadOptions extends BoardFormat, ReadOptions {}

/** What {@link LeaderboardInspector.around} returns for a member on the board. */
export interface MemberNeighbourhood<TData = unknown> {
  /** The member's 1-based rank under the tie rule. */
  rank: number;
  /** Its score. */
  score: number;
  /** The member and up to `radius` neighbours on each side, best first. */
  entries: LeaderboardEntry<TData>[];
}

/**
 * Read and repair leaderboards from outside the app (the `redis-patterns` CLI, a dashboard). Reads
 * never write; `remove` and `clear` do what a board's own methods do.
 */
export interface LeaderboardInspector extends AsyncDisposable {
  /** The boards under the prefix (every cycle and matrix board apart), a page at a time (a cluster-wide SCAN, never KEYS). */
  list(options?: LeaderboardPageOptions): Promise<LeaderboardPage<InspectedBoard>>;
  /** Members on the board (0 when there is none). */
  size(board: BoardRef): Promise<number>;
  /** The best `n` entries (n from 1 to 1000). */
  top<TData = unknown>(
    board: BoardRef,
    n: number,
    options?: InspectReadOptions,
  ): Promise<LeaderboardEntry<TData>[]>;
  /** The member's rank, score and up to `radius` (0 to 1000) neighbours on each side; null when it is not on the board. */
  around<TData = unknown>(
    board: BoardRef,
    member: string,
    radius: number,
    options?: InspectReadOptions,
  ): Promise<MemberNeighbourhood<TData> | null>;
  /**
   * Removes the member and its data, as `Leaderboard.remove`; false when it was not on the board.
   * Pass the board's `ties` and `tieBreak`: a dense board's index of distinct scores moves with
   * it (a `ties` that does not match the board's index is refused with InvalidArgumentError).
   */
  remove(board: BoardRef, member: string, options?: BoardFormat): Promise<boolean>;
  /** Deletes the board (scores, data, indexes), as `Leaderboard.clear`; false when there was none. */
  clear(board: BoardRef): Promise<boolean>;
  /** Round-trip time of a PING in ms. */
  ping(): Promise<number>;
  /** Refuses later calls with `ClosedError`; the connection stays open (close it yourself). */
  close(): Promise<void>;
}

const MAX_READ = 1000;

/**
 * Creates a {@link LeaderboardInspector}. Nothing connects here.
 *
 * @example
 * ```ts
 * import { connect, createLeaderboardInspector } from '@redis-patterns/leaderboard';
 *
 * const redis = await connect({ url: process.env.REDIS_URL });
 * const inspector = createLeaderboardInspector({ redis, prefix: 'game:lb:' });
 * let cursor: string | undefined;
 * do {
 *   const page = await inspector.list({ cursor, count: 100 });
 *   for (const b of page.items) console.log(b.name, b.kind, b.cycle ?? '', b.size);
 *   cursor = page.cursor;
 * } while (cursor !== undefined);
 * console.log(await inspector.top('arcade', 10, { order: 'high-to-low' }));
 * console.log(await inspector.around('arcade', 'u42', 2)); // null when u42 is not on the board
 * await redis.close();
 * ```
 */
export function createLeaderboardInspector(options: LeaderboardInspectorOptions): LeaderboardInspector {
  if (options === undefined) throw new InvalidArgumentError('options', 'expected { redis, prefix? }.');
  checkOptions('options', options, '{ redis, prefix? }');
  const keyspace = createKeyspace(options.prefix ?? 'lb:');
  const conn = toConnection(options.redis);
  // The scores key of every board of this prefix; `{` is not a glob character.
  const pattern = `${escapeGlob(keyspace.prefix)}{*:scores`;
  let closed = false;
  /** The board behind `ref`, read and written as its own code would with `format`. */
  const open = (ref: unknown, format?: BoardFormat) => {
    if (closed) throw new ClosedError('This leaderboard inspector was closed; create a new one.');
    const { name, path } = checkRef(ref);
    const given = checkOptions('options', format, '{ order?, ties?, tieBreak?, tieBreakBits?, withData? }');
    const { settings } = resolveSettings({
      name,
      ...(given.order === undefined ? {} : { order: given.order }),
      ...(given.ties === undefined ? {} : { ties: given.ties }),
      ...(given.tieBreak === undefined ? {} : { tieBreak: given.tieBreak }),
      ...(given.tieBreakBits === undefined ? {} : { tieBreakBits: given.tieBreakBits }),
    });
    const keys = boardKeys(keyspace, name, path);
    return {
      board: createBoard<unknown>({ conn, name, keys, settings }),
      commands: boardCommands(conn, keys, settings),
      keys,
      dense: settings.ties === 'dense',
    };
  };
  const checkRead = (argument: string, n: unknown, min: number) => {
    checkInteger(argument, n as number, min);
    if (n === undefined) throw new InvalidArgumentError(argument, 'is required.');
    if ((n as number) > MAX_READ) throw new InvalidArgumentError(argument, `is ${n}; at most ${MAX_READ}.`);
  };
  const readOptions = (options: InspectReadOptions | undefined) =>
    options?.withData === undefined ? {} : { withData: options.withData };

  const inspector: LeaderboardInspector = instrumentLeaderboardInspector({
    async list(given) {
      if (closed) throw new ClosedError('This leaderboard inspector was closed; create a new one.');
      const page = checkOptions('options', given, '{ cursor?, count? }');
      const count = checkPage(page);
      const { keys, cursor } = await scanKeys(conn, pattern, { cursor: page.cursor, count });
      const found = keys.map((key) => describeKey(keyspace, key)).filter((b) => b !== undefined);
      const stats = await sizesAndExpiries(
        conn,
        found.map((b) => b.key),
      );
      const items = found
        .map((b, i) => {
          const [size, expiry] = stats[i] as [number, number];
          return { ...b, size, expiresAt: expiry >= 0 ? expiry : undefined };
        })
        .filter((b) => b.size > 0);
      return { items, cursor };
    },
    async size(ref) {
      return open(ref).board.count();
    },
    async top<TData>(ref: BoardRef, n: number, options?: InspectReadOptions) {
      const { board } = open(ref, options);
      checkRead('n', n, 1);
      return board.top(n, readOptions(options)) as Promise<LeaderboardEntry<TData>[]>;
    },
    async around<TData>(ref: BoardRef, member: string, radius: number, options?: InspectReadOptions) {
      const { board } = open(ref, options);
      checkKeyPart('member', member);
      checkRead('radius', radius, 0);
      const entries = (await board.around(member, radius, readOptions(options))) as LeaderboardEntry<TData>[];
      const mine = entries.find((e) => e.member === member);
      return mine === undefined ? null : { rank: mine.rank, score: mine.score, entries };
    },
    async remove(ref, member, format) {
      const { board, keys, dense } = open(ref, format);
      checkKeyPart('member', member);
      // A dense board keeps an index of distinct scores that a removal must update: removing with
      // another tie rule would leave it wrong. Its presence says which kind a non-empty board is.
      const [indexed, size] = await hasDenseIndex(conn, keys);
      if (size > 0 && indexed !== dense) {
        throw new InvalidArgumentError(
          'ties',
          indexed
            ? "the board keeps a dense index: pass its options, ties: 'dense' (and its tieBreak)."
            : "the board has no dense index: pass its own ties (not 'dense').",
        );
      }
      return (await board.remove(member)) > 0;
    },
    async clear(ref) {
      return (await open(ref).commands.clear()) > 0;
    },
    async ping() {
      if (closed) throw new ClosedError('This leaderboard inspector was closed; create a new one.');
      return pingServer(conn);
    },
    async close() {
      closed = true;
    },
    [Symbol.asyncDispose]() {
      return inspector.close();
    },
  });
  return inspector;
}
