import { ClosedError, createKeyspace, InvalidArgumentError, toConnection } from '@redis-patterns/connection';
import { checkDuration, checkInteger, checkOptions } from '@redis-patterns/connection/internal';
import { createBoard } from './board.js';
import { aggregateBoards } from './commands/index.js';
import {
  type Cycle,
  type CycleFunction,
  type CycleName,
  checkDate,
  cycleFunction,
  cycleWindow,
} from './cycles.js';
import { boardKeys } from './leaderboard.js';
import { type LeaderboardOptions, resolveSettings } from './options.js';
import { instrumentPeriodic } from './otel.js';
import type { Leaderboard, Submission, WriteOptions } from './types.js';

/** Options of {@link createPeriodicLeaderboard}: a board's options plus its cycle. */
export interface PeriodicLeaderboardOptions extends LeaderboardOptions {
  /** `daily`, `weekly` (ISO, Monday 00:00) or `monthly`, or a function giving the cycle of a date. */
  cycle: CycleName | CycleFunction;
  /** The built-in cycles' time zone; only UTC (use a custom cycle for local days). @default 'UTC' */
  timezone?: 'UTC';
  /** Finished cycles kept readable: a cycle's keys expire at the end of the `keepCycles`-th cycle after it. @default 1 */
  keepCycles?: number;
  /** The clock that picks the current cycle (inject one for tests and backfills). @default () => new Date() */
  now?: () => Date;
}

/** Options of {@link PeriodicLeaderboard.aggregate}. */
export interface AggregateOptions {
  /** One weight per cycle, in the order of `cycles` (newest first when `cycles` is a number). @default all 1 */
  weights?: number[];
  /** How one member's scores across cycles combine (`max` is the best on high-to-low boards). @default 'sum' */
  aggregate?: 'sum' | 'max' | 'min';
  /** Copy member data into the result (newest cycle wins). @default false */
  withData?: boolean;
  /** The result is a snapshot that expires after this long; aggregate again for fresher numbers. @default 60000 */
  ttlMs?: number;
}

/** The board of one cycle. */
export interface CycleLeaderboard<TData = unknown> extends Leaderboard<TData> {
  /** The cycle this board holds. */
  readonly cycle: Cycle;
  /** When the cycle's keys expire (set with PEXPIREAT on every write). */
  readonly expiresAt: Date;
}

/** A leaderboard per cycle (day, week, month...), old cycles expiring on their own. */
export interface PeriodicLeaderboard<TData = unknown> {
  /** The board's name, shared as hash tag by every cycle. */
  readonly name: string;
  /** The cycle containing `at`. */
  cycleOf(at: Date): Cycle;
  /** The board of the current cycle (by the `now` clock). */
  current(): CycleLeaderboard<TData>;
  /** The board of the cycle containing `date`; writing to it fails once its keys' expiry has passed. */
  at(date: Date): CycleLeaderboard<TData>;
  /** `submit` on the current cycle's board. */
  submit(member: string, score: number, options?: WriteOptions<TData>): Promise<number | null>;
  /** `increment` on the current cycle's board. */
  increment(member: string, by: number, options?: WriteOptions<TData>): Promise<number | null>;
  /** `submitMany` on the current cycle's board. */
  submitMany(entries: Submission<TData>[]): Promise<Array<number | null>>;
  /**
   * Combines cycles into one board with ZUNIONSTORE in the same slot, e.g. "last 7 days":
   * `aggregate(7)` is the current cycle and the 6 before it; or pass dates, one per cycle.
   * The result keeps the tie rule; equal totals are ordered by member id (an aggregate has no
   * arrival order). O(total entries).
   */
  aggregate(cycles: number | Date[], options?: AggregateOptions): Promise<Leaderboard<TData>>;
  /**
   * Refuses later calls, here and on every board it returned, with `ClosedError`; calls already
   * made finish on their own. The connection stays open: close it yourself.
   */
  close(): Promise<void>;
  /** Same as {@link PeriodicLeaderboard.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates a periodic leaderboard: writes go to the current cycle's board, and every cycle's keys
 * get a PEXPIREAT at the end of the cycle plus `keepCycles` cycles, so old cycles free their memory
 * without a cleanup job. All cycles share the board's hash tag, so aggregation works on Cluster.
 *
 * @example
 * ```ts
 * const weekly = createPeriodicLeaderboard({ redis, name: 'arcade', cycle: 'weekly', keepCycles: 4, updatePolicy: 'best' });
 * await weekly.submit('u42', 1_200);
 * const thisWeek = await weekly.current().top(10);
 * const lastFourWeeks = await (await weekly.aggregate(4, { aggregate: 'max' })).top(10);
 * ```
 */
export function createPeriodicLeaderboard<TData = unknown>(
  options: PeriodicLeaderboardOptions,
): PeriodicLeaderboard<TData> {
  const { name, prefix, settings } = resolveSettings(options);
  if ((options.timezone ?? 'UTC') !== 'UTC') {
    throw new InvalidArgumentError(
      'timezone',
      "only 'UTC' is built in; pass a custom cycle function for other zones.",
    );
  }
  checkInteger('keepCycles', options.keepCycles, 0);
  const keepCycles = options.keepCycles ?? 1;
  if (options.now !== undefined && typeof options.now !== 'function')
    throw new InvalidArgumentError('now', 'expected a function returning a Date.');
  const now = options.now ?? (() => new Date());
  const cycleOf = cycleFunction(options.cycle);
  const conn = toConnection(options.redis);
  const keyspace = createKeyspace(prefix);

  let closed = false;
  const parentClosed = () => closed;
  const open = () => {
    if (closed) throw new ClosedError('This leaderboard was closed; create a new one.');
  };

  const at = (date: Date): CycleLeaderboard<TData> => {
    open();
    checkDate('date', date);
    const { cycle, expiresAt, expireAt } = cycleWindow(cycleOf, keepCycles, now, date);
    const keys = boardKeys(keyspace, name, ['cycle', cycle.id]);
    return Object.assign(createBoard<TData>({ conn, name, keys, settings, expireAt, parentClosed }), {
      cycle,
      expiresAt,
    });
  };
  const current = () => at(now());

  const periodic: PeriodicLeaderboard<TData> = instrumentPeriodic({
    name,
    cycleOf: (date) => {
      checkDate('date', date);
      return cycleOf(date);
    },
    current,
    at,
    // async: a bad custom cycle or an invalid clock rejects like every other error of a write.
    submit: async (member, score, writeOptions) => current().submit(member, score, writeOptions),
    increment: async (member, by, writeOptions) => current().increment(member, by, writeOptions),
    submitMany: async (entries) => current().submitMany(entries),
    async aggregate(cycles, given) {
      open();
      const aggregateOptions = checkOptions('options', given, '{ weights?, aggregate?, withData?, ttlMs? }');
      const picked = pickCycles(cycles, cycleOf, now);
      const weights = aggregateOptions.weights ?? picked.map(() => 1);
      if (!Array.isArray(weights) || weights.length !== picked.length || !weights.every(Number.isFinite)) {
        throw new InvalidArgumentError('weights', `expected ${picked.length} finite numbers, one per cycle.`);
      }
      const mode = aggregateOptions.aggregate ?? 'sum';
      if (!['sum', 'max', 'min'].includes(mode)) {
        throw new InvalidArgumentError('aggregate', `expected 'sum', 'max' or 'min', got ${String(mode)}.`);
      }
      const ttlMs = aggregateOptions.ttlMs ?? 60_000;
      checkDuration('ttlMs', ttlMs);
      // Stored scores are "lower is better": the user's max is the stored MIN on high-to-low boards.
      const flip = settings.order === 'high-to-low';
      const stored = mode === 'sum' ? 'SUM' : (mode === 'max') !== flip ? 'MAX' : 'MIN';
      // Oldest first, so that the newest cycle's member data wins when copied.
      const sources = picked.map((cycle, i) => ({ cycle, weight: weights[i] as number }));
      sources.sort((a, b) => a.cycle.start.getTime() - b.cycle.start.getTime());
      const weightPart = weights.every((w) => w === 1) ? '' : `:w${sources.map((s) => s.weight).join(',')}`;
      const id = `${mode}:${sources.map((s) => s.cycle.id).join(',')}${weightPart}${aggregateOptions.withData === true ? ':data' : ''}`;
      const destination = boardKeys(keyspace, name, ['agg', id]);
      const sourceBoards = sources.map((s) => ({
        keys: boardKeys(keyspace, name, ['cycle', s.cycle.id]),
        weight: s.weight,
      }));
      const destSettings = {
        ...settings,
        tieBreak: 'none' as const,
        shift: 1,
        maxScore: Number.POSITIVE_INFINITY,
        keepTop: 0,
      };
      await aggregateBoards(conn, settings, destination, sourceBoards, {
        stored,
        withData: aggregateOptions.withData === true,
        ttlMs,
      });
      return createBoard<TData>({ conn, name, keys: destination, settings: destSettings, parentClosed });
    },
    async close() {
      closed = true;
    },
    [Symbol.asyncDispose]() {
      return periodic.close();
    },
  });
  return periodic;
}

function pickCycles(cycles: number | Date[], cycleOf: CycleFunction, now: () => Date): Cycle[] {
  if (typeof cycles === 'number') {
    checkInteger('cycles', cycles, 1);
    const picked = [cycleOf(now())];
    while (picked.length < cycles) {
      const earliest = picked[picked.length - 1] as Cycle;
      picked.push(cycleOf(new Date(earliest.start.getTime() - 1)));
    }
    return picked;
  }
  if (!Array.isArray(cycles) || cycles.length === 0) {
    throw new InvalidArgumentError(
      'cycles',
      'expected a number of cycles >= 1 or a non-empty array of dates.',
    );
  }
  const picked = cycles.map((date, i) => {
    checkDate(`cycles[${i}]`, date);
    return cycleOf(date);
  });
  if (new Set(picked.map((c) => c.id)).size !== picked.length) {
    throw new InvalidArgumentError('cycles', 'two dates fall in the same cycle.');
  }
  return picked;
}
