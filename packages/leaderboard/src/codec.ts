import { checkKeyPart, InvalidArgumentError } from '@redis-patterns/connection';
import type { BoardSettings, TieRule } from './options.js';

/**
 * A score as the scripts see it: lower is better. `-score` on high-to-low boards (`0 - x` so that
 * 0 stays 0, not -0).
 */
export function toRaw(settings: BoardSettings, score: number): number {
  return settings.order === 'high-to-low' ? 0 - score : score;
}

/** The user's score from a stored ZSET score (strips the arrival sequence of earlier-first). */
export function fromStored(settings: BoardSettings, stored: string | number): number {
  const value = Number(stored);
  const raw = settings.shift === 1 ? value : Math.floor(value / settings.shift);
  return settings.order === 'high-to-low' ? 0 - raw : raw + 0;
}

/** Throws unless `score` can be stored exactly on this board. */
export function checkScore(
  settings: BoardSettings,
  argument: string,
  score: unknown,
): asserts score is number {
  if (typeof score !== 'number' || !Number.isFinite(score)) {
    throw new InvalidArgumentError(argument, `expected a finite number, got ${String(score)}.`);
  }
  if (settings.shift > 1 && (!Number.isInteger(score) || Math.abs(score) > settings.maxScore)) {
    throw new InvalidArgumentError(
      argument,
      `earlier-first boards store whole numbers within ±${settings.maxScore} exactly, got ${score}; ` +
        'lower tieBreakBits for a wider range.',
    );
  }
}

/** Throws unless `by` is a usable increment (the script checks the resulting score's range). */
export function checkIncrement(settings: BoardSettings, by: unknown): asserts by is number {
  if (typeof by !== 'number' || !Number.isFinite(by)) {
    throw new InvalidArgumentError('by', `expected a finite number, got ${String(by)}.`);
  }
  if (settings.shift > 1 && (!Number.isInteger(by) || Math.abs(by) > Number.MAX_SAFE_INTEGER)) {
    throw new InvalidArgumentError('by', `earlier-first boards add whole numbers, got ${by}.`);
  }
}

export function checkMember(argument: string, member: unknown): asserts member is string {
  checkKeyPart(argument, member);
}

/** Throws unless `value` is a whole number >= min (pages, sizes, radii, ranks). */
export function checkCount(argument: string, value: unknown, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(argument, `expected a whole number >= ${min}, got ${String(value)}.`);
  }
}

/**
 * JSON for member data; refuses what JSON cannot hold (BigInt, cycles, functions, undefined), null
 * (leave data out instead), and more than `maxBytes` bytes.
 */
export function serializeData(argument: string, data: unknown, maxBytes: number): string {
  if (data === null) throw new InvalidArgumentError(argument, 'is null; leave it out for no data.');
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (err) {
    throw new InvalidArgumentError(argument, `cannot be stored as JSON (${(err as Error).message}).`);
  }
  if (typeof text !== 'string') {
    throw new InvalidArgumentError(argument, `cannot be stored as JSON (got ${typeof data}).`);
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    throw new InvalidArgumentError(
      argument,
      `is ${bytes} bytes as JSON; the limit is ${maxBytes} (maxDataBytes). Store large data elsewhere and keep a reference.`,
    );
  }
  return text;
}

export function parseData<T>(text: string | null | undefined): T | undefined {
  return text === null || text === undefined ? undefined : (JSON.parse(text) as T);
}

/**
 * Ranks for consecutive entries in board order, from the first entry's ordinal index and its tie
 * base (ranks taken before its group): competition ranks restart at the ordinal position when the
 * score changes, dense ranks step by one.
 */
export function assignRanks(rule: TieRule, firstIndex: number, tieBase: number, scores: number[]): number[] {
  const ranks: number[] = [];
  for (let j = 0; j < scores.length; j++) {
    if (rule === 'ordinal') ranks.push(firstIndex + j + 1);
    else if (j === 0) ranks.push(tieBase + 1);
    else if (scores[j] === scores[j - 1]) ranks.push(ranks[j - 1] as number);
    else ranks.push(rule === 'competition' ? firstIndex + j + 1 : (ranks[j - 1] as number) + 1);
  }
  return ranks;
}

/** Stored-score bounds (ZRANGE BYSCORE syntax) for user scores in [min, max]; null when empty. */
export function storedBounds(settings: BoardSettings, min: number, max: number): [string, string] | null {
  let lo = toRaw(settings, settings.order === 'high-to-low' ? max : min);
  let hi = toRaw(settings, settings.order === 'high-to-low' ? min : max);
  if (settings.shift > 1) {
    // Only whole raw scores exist; each raw r covers stored [r * shift, (r + 1) * shift).
    lo = Math.ceil(lo);
    hi = Math.floor(hi);
  }
  if (Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) return null;
  const bound = (x: number) =>
    x === Number.POSITIVE_INFINITY ? '+inf' : x === Number.NEGATIVE_INFINITY ? '-inf' : null;
  if (settings.shift === 1) return [bound(lo) ?? String(lo), bound(hi) ?? String(hi)];
  return [bound(lo) ?? String(lo * settings.shift), bound(hi) ?? `(${(hi + 1) * settings.shift}`];
}
