import { InvalidArgumentError as PatternsInvalidArgument } from '@redis-patterns/connection';
import { InvalidArgumentError } from 'commander';
import { OperationError, UsageError } from './context.js';

/** A commander argument parser for an integer from `min` to `max`. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got '${value}'.`);
    }
    return n;
  };
}

/** A commander argument parser for one of `choices`. */
export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got '${value}'.`);
    }
    return value as T;
  };
}

/** Page options shared by the listing commands: where to start and how many items at most. */
export interface ListingOptions {
  /** A cursor printed by an earlier listing (`--json` gives it as `cursor`). */
  cursor?: string;
  /** Most items to print; the listing stops early and gives its cursor. */
  limit: number;
}

/** The default of `--limit`: enough for a terminal, bounded for a large keyspace. */
export const DEFAULT_LIMIT = 1000;

/** Keys each SCAN page looks at. */
export const PAGE = 200;

/**
 * Goes through pages from `cursor` until the listing ends or `limit` items are collected; returns
 * them and the cursor to go on from (undefined at the end).
 */
export async function collect<T>(
  page: (cursor: string | undefined) => Promise<{ items: T[]; cursor: string | undefined }>,
  { cursor, limit }: ListingOptions,
): Promise<{ items: T[]; cursor: string | undefined }> {
  const items: T[] = [];
  let next = cursor;
  // A page finds few items over a keyspace of mostly other keys: the pages are bounded too, so one
  // command never walks a whole large database (it prints the cursor to go on from).
  let pages = 0;
  do {
    const got = pages === 0 ? await page(next) : await fromOwnCursor(() => page(next));
    items.push(...got.items);
    next = got.cursor;
  } while (next !== undefined && items.length < limit && ++pages < MAX_PAGES);
  return { items, cursor: next };
}

/**
 * Reads a page from a cursor this process got from the page before. A refused cursor there is no
 * usage error (exit 2) but a listing cut short (exit 1): the Cluster changed under it, as in a
 * failover that demoted the master the cursor names.
 */
export async function fromOwnCursor<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof PatternsInvalidArgument && err.argument === 'cursor') {
      throw new OperationError(`the listing was cut short: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** Pages one listing command reads at most (each page is at most ten SCAN calls). */
const MAX_PAGES = 50;

/** The line under a listing that stopped at `--limit`. */
export function moreNote(cursor: string | undefined): string {
  return cursor === undefined ? '' : `(more: go on with --cursor ${cursor})\n`;
}

/** Adds `--cursor` and `--limit` to a listing command. */
export function listing(command: import('commander').Command): import('commander').Command {
  return command
    .option('--cursor <cursor>', 'go on from the cursor an earlier listing printed')
    .option('--limit <n>', 'stop after about this many items', integer(1), DEFAULT_LIMIT);
}

/** The page options of an inspector's listing: `count` keys from `cursor` (left out at the start). */
export function pageAt(cursor: string | undefined): { cursor?: string; count: number } {
  return cursor === undefined ? { count: PAGE } : { cursor, count: PAGE };
}

/** Parses a positional argument inside an action, where a bad value is a {@link UsageError}. */
export function argument<T>(name: string, value: string, parse: (value: string) => T): T {
  try {
    return parse(value);
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
}
