import { assignRanks, fromStored, parseData } from './codec.js';
import type { BoardSettings } from './options.js';
import type { LeaderboardEntry, SubsetStanding } from './types.js';

/** What the range scripts return: first ordinal index, tie base (or -1), [member, stored, ...], data. */
export type RangeReply = [number, number, Array<string | number>, Array<string | null> | null] | null;

/** Entries from a range script's reply; ranks follow the tie rule from the first entry on. */
export function entriesFromRange<TData>(
  settings: BoardSettings,
  reply: RangeReply,
): LeaderboardEntry<TData>[] {
  if (reply === null) return [];
  const [first, base, flat, data] = reply;
  const members: string[] = [];
  const scores: number[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    members.push(flat[i] as string);
    scores.push(fromStored(settings, flat[i + 1] as string));
  }
  return build(settings, first, base, members, scores, data);
}

/**
 * Entries from a plain `ZRANGE ... WITHSCORES` (ordinal ranks only): RESP3, the default of
 * `connect()`, pairs each member with a double; RESP2 clients get a flat list of strings.
 */
export function entriesFromZrange<TData>(
  settings: BoardSettings,
  start: number,
  reply: Array<string | [string, number]>,
): LeaderboardEntry<TData>[] {
  const members: string[] = [];
  const scores: number[] = [];
  if (Array.isArray(reply[0])) {
    for (const [member, stored] of reply as Array<[string, number]>) {
      members.push(member);
      scores.push(fromStored(settings, stored));
    }
  } else {
    for (let i = 0; i + 1 < reply.length; i += 2) {
      members.push(reply[i] as string);
      scores.push(fromStored(settings, reply[i + 1] as string));
    }
  }
  return build(settings, start, -1, members, scores, null);
}

function build<TData>(
  settings: BoardSettings,
  first: number,
  base: number,
  members: string[],
  scores: number[],
  data: Array<string | null> | null,
): LeaderboardEntry<TData>[] {
  const ranks = assignRanks(settings.ties, first, base, scores);
  const entries: LeaderboardEntry<TData>[] = new Array(members.length);
  for (let j = 0; j < members.length; j++) {
    const entry: LeaderboardEntry<TData> = {
      member: members[j] as string,
      score: scores[j] as number,
      rank: ranks[j] as number,
    };
    if (data !== null) entry.data = parseData<TData>(data[j]);
    entries[j] = entry;
  }
  return entries;
}

/** Members per lookup script call (the script HMGETs them in one call). */
export const LOOKUP_BATCH = 1000;

/** What the lookup script returns: board size, [stored, ordinal index, tie base, below] per member, data. */
export type LookupReply = [number, Array<string | number | null>, Array<string | null> | null];

/** Per member (null when absent): its entry, the board size and how many members rank below it. */
export function entriesFromLookup<TData>(settings: BoardSettings, members: string[], replies: LookupReply[]) {
  return members.map((member, i) => {
    const [card, out, data] = replies[Math.floor(i / LOOKUP_BATCH)] as LookupReply;
    const at = 4 * (i % LOOKUP_BATCH);
    const stored = out[at] as string | null;
    if (stored === null) return null;
    const rank = settings.ties === 'ordinal' ? (out[at + 1] as number) + 1 : (out[at + 2] as number) + 1;
    const entry: LeaderboardEntry<TData> = { member, score: fromStored(settings, stored), rank };
    if (data !== null) entry.data = parseData<TData>(data[i % LOOKUP_BATCH]);
    return { entry, card, below: out[at + 3] as number };
  });
}

/** What the among script returns: the set's size on the board, its best entries, the window around the member. */
export type AmongReply = [number, NonNullable<RangeReply>, RangeReply];

/** The standing of a set from the among script's reply; ranks count within the set. */
export function standingFromAmong<TData>(
  settings: BoardSettings,
  member: string | undefined,
  [count, top, around]: AmongReply,
): SubsetStanding<TData> {
  const window = entriesFromRange<TData>(settings, around);
  return {
    count,
    top: entriesFromRange<TData>(settings, top),
    entry: window.find((e) => e.member === member) ?? null,
    around: window,
  };
}

/** What the matrix lookup script returns: members, [stored, ordinal index, tie base] per member per board, data. */
export type MatrixLookupReply = [string[], Array<string | number | null>, Array<string | null> | null];

/** Each member's entry per board (null when absent) from a matrix lookup, boards in the order sent. */
export function entriesFromMatrixLookup<TData>(
  boards: ReadonlyArray<{ id: string; settings: BoardSettings }>,
  [members, flat, data]: MatrixLookupReply,
): Array<Record<string, LeaderboardEntry<TData> | null>> {
  return members.map((member, m) => {
    const row: Record<string, LeaderboardEntry<TData> | null> = {};
    boards.forEach(({ id, settings }, b) => {
      const at = m * boards.length + b;
      const stored = flat[3 * at] as string | null;
      if (stored === null) {
        row[id] = null;
        return;
      }
      const rank = (flat[settings.ties === 'ordinal' ? 3 * at + 1 : 3 * at + 2] as number) + 1;
      const entry: LeaderboardEntry<TData> = { member, score: fromStored(settings, stored), rank };
      if (data !== null) entry.data = parseData<TData>(data[at]);
      row[id] = entry;
    });
    return row;
  });
}
