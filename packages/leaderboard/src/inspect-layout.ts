import { checkKeyPart, InvalidArgumentError, type Keyspace } from '@redis-patterns/connection';
import { checkOptions } from '@redis-patterns/connection/internal';
import { utcCycles } from './cycles.js';

/*
 * How the inspector (src/inspect.ts) reads the key layout of src/leaderboard.ts, src/periodic.ts and
 * src/matrix.ts, `<prefix>{<name>}<path>:scores`, and its own paging cursors.
 */

/** A board by its name and the key parts after it, as {@link InspectedBoard} gives them. */
export interface BoardLocation {
  /** The board's name. */
  readonly name: string;
  /** The key parts after the name (see {@link InspectedBoard.path}). @default [] (a plain board) */
  readonly path?: readonly string[] | undefined;
}

/**
 * A board as the inspector names it: a plain board's name, or a listed board (its `name` and
 * `path`) for a cycle of a periodic board, an aggregate, or a board of a matrix.
 */
export type BoardRef = string | BoardLocation;

/** A board found under the prefix. Pass it as the `board` of the other methods. */
export interface InspectedBoard {
  /** The name given to `createLeaderboard`, `createPeriodicLeaderboard` or `createLeaderboardMatrix`. */
  name: string;
  /** The key parts after the name: `[]`, `['cycle', id]`, `['agg', id]`, `['board', id]` or `['board', id, 'cycle', id]`. */
  path: string[];
  /** A plain board, one cycle of a periodic board, an aggregate of cycles, or a board of a matrix. */
  kind: 'board' | 'cycle' | 'aggregate' | 'matrix';
  /** The board's id within its matrix; undefined outside a matrix. */
  matrixBoard: string | undefined;
  /** The cycle's id (e.g. `2025-W14`); undefined for a board without cycles. */
  cycle: string | undefined;
  /**
   * Whether the cycle is the current one, for the built-in UTC cycles (by this process's clock);
   * undefined for a board without cycles, or a custom cycle's id.
   */
  current: boolean | undefined;
  /** Members on the board. */
  size: number;
  /** When Redis drops the board (epoch ms): a cycle's end plus the cycles kept; undefined for none. */
  expiresAt: number | undefined;
  /** The board's scores key. */
  key: string;
}

/** The board of a listed scores key; undefined for a key of another layout. */
export function describeKey(
  keyspace: Keyspace,
  key: string,
): Omit<InspectedBoard, 'size' | 'expiresAt'> | undefined {
  const name = keyspace.tagOf(key);
  if (name === undefined) return undefined;
  const middle = key.slice(key.indexOf('}') + 1, -':scores'.length);
  const path = middle === '' ? [] : pathOf(middle.slice(1));
  if (path === undefined || (middle !== '' && !middle.startsWith(':'))) return undefined;
  const [head, id, , cycleId] = path;
  const cycle = head === 'cycle' ? id : cycleId;
  const kind =
    head === undefined ? 'board' : head === 'cycle' ? 'cycle' : head === 'agg' ? 'aggregate' : 'matrix';
  return {
    name,
    path,
    kind,
    matrixBoard: head === 'board' ? id : undefined,
    cycle,
    current: isCurrent(cycle),
    key,
  };
}

/** `cycle:<id>`, `agg:<id>`, `board:<id>` or `board:<id>:cycle:<id>` as a path (ids may hold colons). */
function pathOf(text: string): string[] | undefined {
  const colon = text.indexOf(':');
  const head = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (colon <= 0 || rest === '') return undefined;
  if (head === 'cycle' || head === 'agg') return [head, rest];
  if (head !== 'board') return undefined;
  const cut = rest.lastIndexOf(':cycle:');
  return cut > 0 ? ['board', rest.slice(0, cut), 'cycle', rest.slice(cut + 7)] : ['board', rest];
}

const BUILT_IN: Array<[RegExp, keyof typeof utcCycles]> = [
  [/^\d{4}-\d{2}-\d{2}$/, 'daily'],
  [/^\d{4}-W\d{2}$/, 'weekly'],
  [/^\d{4}-\d{2}$/, 'monthly'],
];

function isCurrent(cycle: string | undefined): boolean | undefined {
  const found = cycle === undefined ? undefined : BUILT_IN.find(([shape]) => shape.test(cycle));
  return found === undefined ? undefined : utcCycles[found[1]](new Date()).id === cycle;
}

export function checkRef(ref: unknown): { name: string; path: string[] } {
  if (typeof ref === 'string') {
    checkKeyPart('board', ref);
    return { name: ref, path: [] };
  }
  const given = checkOptions(
    'board',
    ref as object | undefined,
    'a board name or { name, path? } from list()',
  ) as {
    name?: unknown;
    path?: unknown;
  };
  checkKeyPart('board.name', given.name);
  const path = given.path ?? [];
  const shapes = [[], ['cycle', ''], ['agg', ''], ['board', ''], ['board', '', 'cycle', '']];
  const ok =
    Array.isArray(path) &&
    shapes.some((s) => s.length === path.length && s.every((p, i) => p === '' || p === path[i]));
  if (!ok) {
    throw new InvalidArgumentError(
      'board.path',
      "expected [], ['cycle', id], ['agg', id], ['board', id] or ['board', id, 'cycle', id], as list() gives it.",
    );
  }
  for (const part of path) checkKeyPart('board.path', part);
  return { name: given.name, path: path.slice() };
}
