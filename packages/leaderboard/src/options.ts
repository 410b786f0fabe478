import { checkKeyPart, InvalidArgumentError, type RedisLike } from '@redis-patterns/connection';
import { checkInteger, checkOptions } from '@redis-patterns/connection/internal';

/** Which end of the board is first: `high-to-low` puts the highest score at rank 1. */
export type LeaderboardOrder = 'high-to-low' | 'low-to-high';
/** What `submit` does with a member's previous score: overwrite it, keep the better one, or add to it. */
export type UpdatePolicy = 'replace' | 'best' | 'increment';
/**
 * How equal scores are ranked: `ordinal` 1,2,3,4 (every member its own rank), `dense` 1,2,2,3
 * and `competition` 1,2,2,4 (equal scores share a rank).
 */
export type TieRule = 'ordinal' | 'dense' | 'competition';
/**
 * The order of members with equal scores: `none` by member id (byte order), `earlier-first` by who
 * reached the score first.
 */
export type TieBreak = 'none' | 'earlier-first';

/** Options of {@link createLeaderboard}. */
export interface LeaderboardOptions {
  /** A connection from `@redis-patterns/connection` or a node-redis client, cluster or sentinel. */
  redis: RedisLike;
  /** The board's name; it is the hash tag of every key of the board, so one board lives in one Cluster slot. */
  name: string;
  /** Prepended to every key, e.g. `game:lb:`. @default 'lb:' */
  prefix?: string;
  /** Which end is rank 1. Part of the board's stored format: every user of a board name must agree. @default 'high-to-low' */
  order?: LeaderboardOrder;
  /** What `submit` does with an existing score (`increment` always adds). @default 'replace' */
  updatePolicy?: UpdatePolicy;
  /** How equal scores are ranked (`dense` keeps an index of distinct scores). Part of the stored format. @default 'ordinal' */
  ties?: TieRule;
  /** How members with equal scores are ordered (and given ordinal ranks). Part of the stored format. @default 'none' */
  tieBreak?: TieBreak;
  /**
   * With `earlier-first`: bits of each stored score that hold the arrival sequence. Scores must then
   * be integers within ±(2^(53 − bits) − 1); the default allows ±2,147,483,647.
   * @default 22
   */
  tieBreakBits?: number;
  /** Keep only the best N members; the rest are trimmed in the same script as the write (a trimmed member's score is gone, increments included). @default undefined (no limit) */
  keepTop?: number;
  /**
   * The most bytes of JSON member `data` one write may store; a larger one is refused with
   * InvalidArgumentError before anything is sent.
   * @default 65536
   */
  maxDataBytes?: number;
}

/** The options of a board after defaults; what every module below the factory works with. */
export interface BoardSettings {
  order: LeaderboardOrder;
  updatePolicy: UpdatePolicy;
  ties: TieRule;
  tieBreak: TieBreak;
  /** 2^tieBreakBits with earlier-first, else 1: stored = raw × shift + sequence. */
  shift: number;
  /** The largest |score| accepted, or Infinity without a tie-break. */
  maxScore: number;
  /** 0 for no limit. */
  keepTop: number;
  /** The most bytes of JSON member data one write may store. */
  maxDataBytes: number;
}

const DEFAULTS = {
  prefix: 'lb:',
  order: 'high-to-low',
  updatePolicy: 'replace',
  ties: 'ordinal',
  tieBreak: 'none',
  tieBreakBits: 22,
} as const;

/** Validates the options every board shares and applies the defaults, in one place. */
export function resolveSettings(options: Omit<LeaderboardOptions, 'redis'>): {
  name: string;
  prefix: string;
  settings: BoardSettings;
} {
  if (options === undefined) throw new InvalidArgumentError('options', 'expected an options object.');
  checkOptions('options', options, 'an options object');
  checkKeyPart('name', options.name);
  const prefix = options.prefix ?? DEFAULTS.prefix;
  const order = options.order ?? DEFAULTS.order;
  const updatePolicy = options.updatePolicy ?? DEFAULTS.updatePolicy;
  const ties = options.ties ?? DEFAULTS.ties;
  const tieBreak = options.tieBreak ?? DEFAULTS.tieBreak;
  const bits = options.tieBreakBits ?? DEFAULTS.tieBreakBits;
  checkOneOf('order', order, ['high-to-low', 'low-to-high']);
  checkOneOf('updatePolicy', updatePolicy, ['replace', 'best', 'increment']);
  checkOneOf('ties', ties, ['ordinal', 'dense', 'competition']);
  checkOneOf('tieBreak', tieBreak, ['none', 'earlier-first']);
  if (!Number.isInteger(bits) || bits < 2 || bits > 48) {
    throw new InvalidArgumentError(
      'tieBreakBits',
      `expected a whole number from 2 to 48, got ${String(bits)}.`,
    );
  }
  checkInteger('keepTop', options.keepTop, 1);
  checkInteger('maxDataBytes', options.maxDataBytes, 1);
  const earlierFirst = tieBreak === 'earlier-first';
  return {
    name: options.name,
    prefix,
    settings: {
      order,
      updatePolicy,
      ties,
      tieBreak,
      shift: earlierFirst ? 2 ** bits : 1,
      maxScore: earlierFirst ? 2 ** (53 - bits) - 1 : Number.POSITIVE_INFINITY,
      keepTop: options.keepTop ?? 0,
      maxDataBytes: options.maxDataBytes ?? 65_536,
    },
  };
}

function checkOneOf(name: string, value: unknown, allowed: readonly string[]): void {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new InvalidArgumentError(
      name,
      `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${String(value)}.`,
    );
  }
}
