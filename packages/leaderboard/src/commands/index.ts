import type { RedisConnection, Script } from '@redis-patterns/connection';
import { ScriptBatcher } from '@redis-patterns/connection/internal';
import type { BoardKeys } from '../board.js';
import { scripts } from '../lua.generated.js';
import type { BoardSettings, UpdatePolicy } from '../options.js';
import {
  type AmongReply,
  LOOKUP_BATCH,
  type LookupReply,
  type MatrixLookupReply,
  type RangeReply,
} from '../replies.js';
import type { PendingWrite } from '../writes.js';

/*
 * Every Redis command of the leaderboard is sent from this folder: this module for boards, and
 * inspect.ts for the inspector's listing of boards.
 *
 * A board is three keys in one hash tag (BoardKeys, laid out in src/lua/lib/keys.lua): every script
 * takes them as KEYS[1..3] and starts its ARGV with the board's shift and tie rule. Reads are sent
 * `readonly`, so the connection may serve them from any socket or a replica; writes are not.
 * What the replies mean is decoded in replies.ts and codec.ts. `scripts.<name>` is src/lua/<name>.lua
 * (kebab-case there), with what it takes and returns at its top.
 */

/** Most plain arounds in one script call (one call blocks Redis for all of them). */
const AROUND_BATCH = 25;

/** What `ZRANGE ... WITHSCORES` returns: pairs under RESP3, a flat list of strings under RESP2. */
export type ZrangeReply = Array<string | [string, number]>;

/** What the write script returns; src/lua/write.lua says what each shape means. */
export type WriteReply = Array<string | number | null>;

/** The commands of one board. */
export type BoardCommands = ReturnType<typeof boardCommands>;

/** Binds the commands to one board; nothing is sent until a command is called. */
export function boardCommands(conn: RedisConnection, keys: BoardKeys, settings: BoardSettings) {
  const keyList = [keys.scores, keys.data, keys.distinct];
  const run = <T>(script: Script, args: string[], readonly = true) =>
    conn.runScript<T>(script, keyList, [String(settings.shift), settings.ties, ...args], { readonly });
  const flag = (on: boolean) => (on ? '1' : '0');

  // Plain arounds asked for in the same tick share script calls: at 50 in flight Redis then runs a
  // few calls of many windows instead of 50 calls. With none in flight a call goes out at once, so
  // batching costs nothing at low load.
  const arounds = new ScriptBatcher<string[], RangeReply>(conn, {
    single: scripts.aroundPlain,
    batch: scripts.aroundPlainBatch,
    max: AROUND_BATCH,
    keyOf: () => keys.scores,
    argsOf: (calls) => ({
      keys: keyList,
      args: [String(settings.shift), settings.ties, '0', ...calls.flat()],
    }),
    layout: { first: 0, slots: 1 },
    decode: (reply, at) => (reply as RangeReply[])[at] as RangeReply,
    readonly: true,
  });

  // A board without tie-break sequences, dense index or keepTop stores a score as it is, so a write
  // without data or cycle needs no Lua: a replace is one ZADD (atomic over all its pairs), a best one
  // ZADD LT followed on the same socket by a ZMSCORE for the scores it left (stored scores are lower
  // is better). Those replies are the members' scores just after the ZADD, with whatever another
  // write landing in between did to them.
  const plain = settings.shift === 1 && settings.ties !== 'dense' && settings.keepTop === 0;

  return {
    /** One write over `entries` (the caller bounds their number): plain commands where they suffice, else the script. */
    async write(
      policy: UpdatePolicy,
      expireAtMs: number,
      entries: readonly PendingWrite[],
    ): Promise<WriteReply> {
      if (plain && policy !== 'increment' && expireAtMs === 0 && entries.every((e) => e.data === undefined)) {
        const zadd = policy === 'best' ? ['ZADD', keys.scores, 'LT'] : ['ZADD', keys.scores];
        // As in the script, a member given twice ends with its last (replace) or best score, and
        // every entry of it says so.
        const finals = new Map<string, string | null>();
        for (const e of entries) {
          const stored = String(e.raw);
          zadd.push(stored, e.member);
          finals.set(e.member, stored);
        }
        const written = conn.send<number>(zadd, { key: keys.scores });
        if (policy === 'replace') {
          await written;
          return [1, ...entries.map((e) => finals.get(e.member) ?? null)];
        }
        const members = [...finals.keys()];
        const scores = conn.send<Array<string | number | null>>(['ZMSCORE', keys.scores, ...members], {
          key: keys.scores,
        });
        const [, after] = await Promise.all([written, scores]);
        // null: removed by a concurrent call in between, as a keepTop trim would report it.
        for (const [i, member] of members.entries())
          finals.set(member, after[i] == null ? null : String(after[i]));
        return [1, ...entries.map((e) => finals.get(e.member) ?? null)];
      }
      const args = [
        String(settings.shift),
        settings.ties,
        policy,
        settings.shift > 1 ? String(settings.maxScore) : '0',
        String(settings.keepTop),
        String(expireAtMs),
      ];
      for (const e of entries)
        args.push(e.member, String(e.raw), e.data === undefined ? '0' : '1', e.data ?? '');
      return conn.runScript<WriteReply>(scripts.write, keyList, args);
    },

    /** Removes members, LOOKUP_BATCH per script call; resolves to how many were on the board. */
    async remove(members: readonly string[]): Promise<number> {
      let removed = 0;
      for (let i = 0; i < members.length; i += LOOKUP_BATCH) {
        removed += await run<number>(scripts.remove, members.slice(i, i + LOOKUP_BATCH), false);
      }
      return removed;
    },

    /** Deletes the board's keys; resolves to how many existed. */
    clear(): Promise<number> {
      return conn.send<number>(['DEL', ...keyList], { key: keys.scores });
    },

    /** The members' ranks (and data, and members below), one reply per LOOKUP_BATCH members. */
    async lookup(members: readonly string[], withData: boolean, withBelow: boolean): Promise<LookupReply[]> {
      const replies: LookupReply[] = [];
      for (let i = 0; i < members.length; i += LOOKUP_BATCH) {
        const chunk = members.slice(i, i + LOOKUP_BATCH);
        replies.push(await run<LookupReply>(scripts.lookup, [flag(withData), flag(withBelow), ...chunk]));
      }
      return replies;
    },

    /** The stored score of a member, or null. */
    storedScore(member: string): Promise<string | null> {
      return conn.send<string | null>(['ZSCORE', keys.scores, member], { key: keys.scores, readonly: true });
    },

    /** The 0-based ordinal index of a member, or null. */
    ordinalIndex(member: string): Promise<number | null> {
      return conn.send<number | null>(['ZRANK', keys.scores, member], { key: keys.scores, readonly: true });
    },

    count(): Promise<number> {
      return conn.send<number>(['ZCARD', keys.scores], { key: keys.scores, readonly: true });
    },

    /** Entries `start..stop` (0-based, inclusive) with stored scores only: enough for ordinal ranks. */
    zrange(start: number, stop: number): Promise<ZrangeReply> {
      const args = ['ZRANGE', keys.scores, String(start), String(stop), 'WITHSCORES'];
      return conn.send<ZrangeReply>(args, { key: keys.scores, readonly: true });
    },

    /** Entries `start..stop` (0-based, inclusive) with their ranks under the tie rule. */
    range(start: number, stop: number, withData: boolean): Promise<RangeReply> {
      return run<RangeReply>(scripts.range, [flag(withData), String(start), String(stop)]);
    },

    around(member: string, radius: number, withData: boolean, fillBorders: boolean): Promise<RangeReply> {
      return run<RangeReply>(scripts.around, [flag(withData), member, String(radius), flag(fillBorders)]);
    },

    /** `around` of an ordinal board without data, batched with the other plain arounds of its tick. */
    aroundPlain(member: string, radius: number, fillBorders: boolean): Promise<RangeReply> {
      return arounds.call([member, String(radius), flag(fillBorders)]);
    },

    atRank(rank: number, withData: boolean): Promise<RangeReply> {
      return run<RangeReply>(scripts.atRank, [flag(withData), String(rank)]);
    },

    /** The board over `members` (distinct): the set's best `top` and the window around `member` ('' = none). */
    among(
      members: readonly string[],
      member: string,
      radius: number,
      fillBorders: boolean,
      top: number,
      withData: boolean,
    ): Promise<AmongReply> {
      const args = [flag(withData), member, String(radius), flag(fillBorders), String(top), ...members];
      return run<AmongReply>(scripts.among, args);
    },

    /** Entries between two stored bounds (ZRANGE BYSCORE syntax); `limit` -1 for all. */
    scoreRange(bounds: readonly string[], limit: number, withData: boolean): Promise<RangeReply> {
      return run<RangeReply>(scripts.scoreRange, [flag(withData), ...bounds, String(limit)]);
    },
  };
}

/** One board of a matrix call: its keys and format, the raw value to write, its cycle's expiry. */
export interface MatrixTarget {
  keys: BoardKeys;
  settings: BoardSettings;
  /** The value under the board's order ("lower is better"); unused by reads. */
  raw: number;
  /** PEXPIREAT of the board's keys on writes (ms), 0 for none. */
  expireAtMs: number;
}

const matrixKeys = (targets: readonly MatrixTarget[]) =>
  targets.flatMap(({ keys }) => [keys.scores, keys.data, keys.distinct]);

/**
 * One member's score written to several boards of a matrix in one script (their keys share one hash
 * tag). Replies as src/lua/matrix-write.lua says.
 */
export function matrixWrite(
  conn: RedisConnection,
  targets: readonly MatrixTarget[],
  member: string,
  data: string | undefined,
): Promise<WriteReply> {
  const args = ['', '', member, data === undefined ? '0' : '1', data ?? ''];
  for (const { settings, raw, expireAtMs } of targets) {
    args.push(
      String(settings.shift),
      settings.ties,
      settings.updatePolicy,
      String(raw),
      settings.shift > 1 ? String(settings.maxScore) : '0',
      String(settings.keepTop),
      String(expireAtMs),
    );
  }
  return conn.runScript<WriteReply>(scripts.matrixWrite, matrixKeys(targets), args);
}

/**
 * Members' places on several boards of a matrix, read in one script: the `members` given, or the best
 * `top` of board `sortBoard` (0-based in `targets`).
 */
export function matrixLookup(
  conn: RedisConnection,
  targets: readonly MatrixTarget[],
  read:
    | { members: readonly string[]; withData: boolean }
    | { sortBoard: number; top: number; withData: boolean },
): Promise<MatrixLookupReply> {
  const sorted = 'sortBoard' in read;
  const args = ['', '', read.withData ? '1' : '0', sorted ? String(read.sortBoard + 1) : '0'];
  args.push(sorted ? String(read.top) : '0');
  for (const { settings } of targets) args.push(String(settings.shift), settings.ties);
  if (!sorted) args.push(...read.members);
  return conn.runScript<MatrixLookupReply>(scripts.matrixLookup, matrixKeys(targets), args, {
    readonly: true,
  });
}

/** How {@link aggregateBoards} combines its sources. */
export interface Combine {
  /** The stored scores' ZUNIONSTORE aggregate. */
  stored: 'SUM' | 'MAX' | 'MIN';
  /** Copy member data too. */
  withData: boolean;
  /** The destination expires after this long. */
  ttlMs: number;
}

/**
 * Replaces `destination` with the weighted combination of `sources` (oldest first, so the newest
 * data wins); every board shares one hash tag.
 */
export async function aggregateBoards(
  conn: RedisConnection,
  settings: BoardSettings,
  destination: BoardKeys,
  sources: ReadonlyArray<{ keys: BoardKeys; weight: number }>,
  combine: Combine,
): Promise<void> {
  await conn.runScript(
    scripts.aggregate,
    [
      destination.scores,
      destination.data,
      destination.distinct,
      ...sources.map((s) => s.keys.scores),
      ...sources.map((s) => s.keys.data),
    ],
    [
      '1',
      settings.ties,
      String(settings.shift),
      combine.stored,
      combine.withData ? '1' : '0',
      String(Math.ceil(combine.ttlMs)),
      ...sources.map((s) => String(s.weight)),
    ],
  );
}
