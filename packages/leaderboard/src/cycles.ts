import { checkKeyPart, InvalidArgumentError } from '@redis-patterns/connection';

/** One period of a periodic board: `[start, end)`, named by `id` (part of its Redis keys). */
export interface Cycle {
  /** Names the cycle in its Redis keys, e.g. `2025-W14`. */
  id: string;
  /** The first instant of the cycle (inclusive). */
  start: Date;
  /** The first instant after the cycle (exclusive); the next cycle's start. */
  end: Date;
}

/** A custom cycle: the cycle containing `at`. The previous cycle is found as `cycleOf(start - 1 ms)`. */
export type CycleFunction = (at: Date) => Cycle;

/** The built-in UTC cycles: calendar day, ISO week (Monday to Monday) and calendar month. */
export type CycleName = 'daily' | 'weekly' | 'monthly';

const DAY_MS = 86_400_000;
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The built-in cycles, in UTC. Ids: `2025-03-31`, `2025-W14` (ISO week-numbering year), `2025-03`. */
export const utcCycles: Readonly<Record<CycleName, CycleFunction>> = Object.freeze({
  daily(at: Date): Cycle {
    const y = at.getUTCFullYear();
    const m = at.getUTCMonth();
    const d = at.getUTCDate();
    const start = Date.UTC(y, m, d);
    return {
      id: `${pad(y, 4)}-${pad(m + 1)}-${pad(d)}`,
      start: new Date(start),
      end: new Date(start + DAY_MS),
    };
  },
  weekly(at: Date): Cycle {
    const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
    const start = day - ((at.getUTCDay() + 6) % 7) * DAY_MS;
    // ISO 8601: a week belongs to the year of its Thursday; week 1 holds the year's first Thursday.
    const thursday = new Date(start + 3 * DAY_MS);
    const isoYear = thursday.getUTCFullYear();
    const week = 1 + Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / (7 * DAY_MS));
    return {
      id: `${pad(isoYear, 4)}-W${pad(week)}`,
      start: new Date(start),
      end: new Date(start + 7 * DAY_MS),
    };
  },
  monthly(at: Date): Cycle {
    const y = at.getUTCFullYear();
    const m = at.getUTCMonth();
    return {
      id: `${pad(y, 4)}-${pad(m + 1)}`,
      start: new Date(Date.UTC(y, m, 1)),
      end: new Date(Date.UTC(y, m + 1, 1)),
    };
  },
});

/** Resolves the cycle option to a checked function: a custom function's answers are validated on every call. */
export function cycleFunction(cycle: CycleName | CycleFunction): CycleFunction {
  if (typeof cycle === 'string' && Object.hasOwn(utcCycles, cycle)) return utcCycles[cycle];
  if (typeof cycle !== 'function') {
    throw new InvalidArgumentError(
      'cycle',
      `expected 'daily', 'weekly', 'monthly' or a function, got ${String(cycle)}.`,
    );
  }
  return (at: Date) => {
    const found = cycle(at);
    checkKeyPart('cycle().id', found?.id);
    if (!(found.start instanceof Date) || !(found.end instanceof Date)) {
      throw new InvalidArgumentError('cycle', 'must return { id, start: Date, end: Date }.');
    }
    if (!(found.start.getTime() <= at.getTime() && at.getTime() < found.end.getTime())) {
      throw new InvalidArgumentError(
        'cycle',
        `returned [${found.start.toISOString()}, ${found.end.toISOString()}), which does not contain ${at.toISOString()}.`,
      );
    }
    return found;
  };
}

/** Throws unless `date` is a valid Date. */
export function checkDate(argument: string, date: unknown): asserts date is Date {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(argument, `expected a valid Date, got ${String(date)}.`);
  }
}

/** The cycle of a date with the expiry of its keys, and the check every write to it makes. */
export interface CycleWindow {
  cycle: Cycle;
  /** The end of the cycle plus `keepCycles` more cycles. */
  expiresAt: Date;
  /** The PEXPIREAT (ms) of a write; throws InvalidArgumentError once `now()` has reached it. */
  expireAt: () => number;
}

/** The window of the cycle containing `date` (keys expire `keepCycles` cycles after its end). */
export function cycleWindow(
  cycleOf: CycleFunction,
  keepCycles: number,
  now: () => Date,
  date: Date,
): CycleWindow {
  const cycle = cycleOf(date);
  let expiresAt = cycle.end;
  for (let i = 0; i < keepCycles; i++) expiresAt = cycleOf(expiresAt).end;
  const expireAt = () => {
    if (expiresAt.getTime() <= now().getTime()) {
      throw new InvalidArgumentError(
        'date',
        `cycle ${cycle.id} expired at ${expiresAt.toISOString()}; nothing was written.`,
      );
    }
    return expiresAt.getTime();
  };
  return { cycle, expiresAt, expireAt };
}
