import {
  ClosedError,
  checkKeyPart,
  createKeyspace,
  InvalidArgumentError,
  toConnection,
} from '@redis-patterns/connection';
import { checkBoolean, checkInteger, checkOptions } from '@redis-patterns/connection/internal';
import { createBoard } from './board.js';
import {
  checkCount,
  checkIncrement,
  checkMember,
  checkScore,
  fromStored,
  serializeData,
  toRaw,
} from './codec.js';
import { type MatrixTarget, matrixLookup, matrixWrite } from './commands/index.js';
import { type CycleFunction, checkDate, cycleFunction, cycleWindow } from './cycles.js';
import { boardKeys } from './leaderboard.js';
import type {
  LeaderboardMatrix,
  LeaderboardMatrixOptions,
  MatrixBoardOptions,
  MatrixReadOptions,
} from './matrix-types.js';
import { type BoardSettings, resolveSettings } from './options.js';
import { instrumentMatrix } from './otel.js';
import { entriesFromMatrixLookup } from './replies.js';
import type { LeaderboardEntry } from './types.js';
import { writeFailure } from './writes.js';

/** The most boards in one matrix: a submit writes them all in one script. */
const MAX_BOARDS = 64;

interface MatrixBoard {
  settings: BoardSettings;
  cycleOf: CycleFunction | undefined;
  keepCycles: number;
}

/**
 * Creates a leaderboard matrix (redis-rank's `LeaderboardMatrix`): boards declared together under
 * the matrix's name as hash tag, so that one Lua script writes a score to all of them atomically,
 * on Redis Cluster too. Synchronous: nothing is sent until a method is called.
 *
 * @example
 * ```ts
 * const matrix = createLeaderboardMatrix({
 *   redis, name: 'arcade',
 *   boards: {
 *     allTime: { updatePolicy: 'best' },
 *     weekly: { updatePolicy: 'best', cycle: 'weekly', keepCycles: 4 },
 *     runs: { updatePolicy: 'increment' },
 *   },
 * });
 * await matrix.submit('u42', 1_250); // { allTime: 1250, weekly: 1250, runs: 1250 }
 * const mine = await matrix.entry('u42'); // { allTime: { member, score, rank }, weekly: ..., runs: ... }
 * ```
 */
export function createLeaderboardMatrix<TData = unknown>(
  options: LeaderboardMatrixOptions,
): LeaderboardMatrix<TData> {
  checkOptions('options', options, 'an options object');
  checkKeyPart('name', options.name);
  checkInteger('maxDataBytes', options.maxDataBytes, 1);
  if (options.now !== undefined && typeof options.now !== 'function')
    throw new InvalidArgumentError('now', 'expected a function returning a Date.');
  const { name } = options;
  const maxDataBytes = options.maxDataBytes ?? 65_536;
  const now = options.now ?? (() => new Date());
  const boards = declareBoards(options.boards, name, maxDataBytes);
  const ids = Object.freeze([...boards.keys()]);
  const keyspace = createKeyspace(options.prefix ?? 'lb:');
  const conn = toConnection(options.redis);

  let closed = false;
  const parentClosed = () => closed;
  const open = () => {
    if (closed) throw new ClosedError('This leaderboard matrix was closed; create a new one.');
  };
  /** The keys and expiry of board `id` at `date` (its current cycle if periodic). */
  const locate = (id: string, date: Date) => {
    const board = boards.get(id) as MatrixBoard;
    if (board.cycleOf === undefined) return { board, keys: boardKeys(keyspace, name, ['board', id]) };
    const window = cycleWindow(board.cycleOf, board.keepCycles, now, date);
    return { board, window, keys: boardKeys(keyspace, name, ['board', id, 'cycle', window.cycle.id]) };
  };
  const pick = (given: unknown): readonly string[] => {
    if (given === undefined) return ids;
    if (!Array.isArray(given) || given.length === 0)
      throw new InvalidArgumentError('boards', 'expected a non-empty array of board ids.');
    for (const [i, id] of given.entries()) {
      if (typeof id !== 'string' || !boards.has(id)) {
        throw new InvalidArgumentError(
          `boards[${i}]`,
          `no board ${String(id)} in matrix ${name}; it has ${ids.join(', ')}.`,
        );
      }
    }
    if (new Set(given).size !== given.length)
      throw new InvalidArgumentError('boards', 'lists a board twice.');
    return given;
  };

  const checkBoard = (id: unknown) => {
    if (typeof id !== 'string' || !boards.has(id))
      throw new InvalidArgumentError(
        'id',
        `no board ${String(id)} in matrix ${name}; it has ${ids.join(', ')}.`,
      );
  };
  const readOptionsOf = (given: MatrixReadOptions | undefined) => {
    const checked = checkOptions('options', given, '{ withData?, boards? }');
    checkBoolean('withData', checked.withData);
    return checked;
  };
  /** One atomic read of `picked` boards (their current cycles). */
  const lookup = async (picked: readonly string[], read: Parameters<typeof matrixLookup>[2]) => {
    const date = now();
    const targets = picked.map((id) => {
      const { board, keys } = locate(id, date);
      return { keys, settings: board.settings, raw: 0, expireAtMs: 0 };
    });
    const reply = await matrixLookup(conn, targets, read);
    return entriesFromMatrixLookup<TData>(
      picked.map((id, i) => ({ id, settings: (targets[i] as MatrixTarget).settings })),
      reply,
    );
  };

  const matrix: LeaderboardMatrix<TData> = instrumentMatrix({
    name,
    boards: ids,
    async submit(member, score, writeOptions) {
      open();
      const checked = checkOptions('options', writeOptions, '{ data?, boards? }');
      checkMember('member', member);
      const picked = pick(checked.boards);
      const data = checked.data === undefined ? undefined : serializeData('data', checked.data, maxDataBytes);
      const date = now();
      const targets: MatrixTarget[] = picked.map((id) => {
        const { board, keys, window } = locate(id, date);
        const { settings } = board;
        if (settings.updatePolicy === 'increment') checkIncrement(settings, score);
        else checkScore(settings, 'score', score);
        return { keys, settings, raw: toRaw(settings, score), expireAtMs: window?.expireAt() ?? 0 };
      });
      const reply = await matrixWrite(conn, targets, member, data);
      if (reply[0] !== 1) {
        const at = (reply[1] as number) - 1;
        const target = targets[at] as MatrixTarget;
        const where = `score (board ${picked[at]})`;
        throw writeFailure(target.settings, reply, where, target.expireAtMs, 'Nothing was written.');
      }
      const result: Record<string, number | null> = {};
      picked.forEach((id, i) => {
        const stored = reply[i + 1] as string | null;
        result[id] = stored === null ? null : fromStored(targets[i]?.settings as BoardSettings, stored);
      });
      return result;
    },
    async entry(member, readOptions) {
      open();
      const checked = readOptionsOf(readOptions);
      checkMember('member', member);
      const picked = pick(checked.boards);
      const rows = await lookup(picked, { members: [member], withData: checked.withData === true });
      return rows[0] as Record<string, LeaderboardEntry<TData> | null>;
    },
    async top(id, n, readOptions) {
      open();
      checkBoard(id);
      checkCount('n', n, 1);
      const checked = readOptionsOf(readOptions);
      const picked = pick(checked.boards);
      const read = picked.includes(id) ? picked : [id, ...picked];
      return lookup(read, { sortBoard: read.indexOf(id), top: n, withData: checked.withData === true });
    },
    board(id, at) {
      open();
      checkBoard(id);
      if (at !== undefined) checkDate('at', at);
      const { board, keys, window } = locate(id, at ?? now());
      const context = { conn, name, keys, settings: board.settings, parentClosed };
      if (window === undefined) return createBoard<TData>(context);
      const { cycle, expiresAt, expireAt } = window;
      return Object.assign(createBoard<TData>({ ...context, expireAt }), { cycle, expiresAt });
    },
    async close() {
      closed = true;
    },
    [Symbol.asyncDispose]() {
      return matrix.close();
    },
  });
  return matrix;
}

/** Checks every board's options and applies their defaults, in declaration order. */
function declareBoards(declared: unknown, name: string, maxDataBytes: number): Map<string, MatrixBoard> {
  if (typeof declared !== 'object' || declared === null || Array.isArray(declared))
    throw new InvalidArgumentError('boards', 'expected an object of board options by board id.');
  const entries = Object.entries(declared as Record<string, MatrixBoardOptions>);
  if (entries.length === 0 || entries.length > MAX_BOARDS)
    throw new InvalidArgumentError('boards', `expected 1 to ${MAX_BOARDS} boards, got ${entries.length}.`);
  const boards = new Map<string, MatrixBoard>();
  for (const [id, board] of entries) {
    checkKeyPart(`boards.${id}`, id);
    // A ':' could make one board's keys those of another (`a:cycle:x` and board `a`'s cycle x).
    if (id.includes(':')) throw new InvalidArgumentError(`boards.${id}`, "a board id may not contain ':'.");
    checkOptions(`boards.${id}`, board, 'board options');
    const { cycle, keepCycles, ...rest } = board ?? {};
    const { settings } = resolveSettings({ ...rest, name, maxDataBytes });
    checkInteger(`boards.${id}.keepCycles`, keepCycles, 0);
    boards.set(id, {
      settings,
      cycleOf: cycle === undefined ? undefined : cycleFunction(cycle),
      keepCycles: keepCycles ?? 1,
    });
  }
  return boards;
}
