import {
  ClosedError,
  InvalidArgumentError,
  type RedisConnection,
  type Script,
} from '@redis-patterns/connection';
import { checkBoolean, checkOptions, ScriptBatcher } from '@redis-patterns/connection/internal';
import { checkCount, checkIncrement, checkMember, checkScore, fromStored, storedBounds } from './codec.js';
import type { BoardSettings } from './options.js';
import {
  entriesFromLookup,
  entriesFromRange,
  entriesFromZrange,
  LOOKUP_BATCH,
  type LookupReply,
  type RangeReply,
} from './replies.js';
import {
  aroundPlainBatchScript,
  aroundPlainScript,
  aroundScript,
  atRankScript,
  lookupScript,
  rangeScript,
  removeScript,
  scoreRangeScript,
} from './scripts.js';
import type { Leaderboard, ReadOptions, Submission } from './types.js';
import { pending, write } from './writes.js';

/** Most plain arounds in one script call (one call blocks Redis for all of them). */
const AROUND_BATCH = 25;

/** The Redis keys of one board; all share one hash tag. */
export interface BoardKeys {
  scores: string;
  data: string;
  distinct: string;
}

/** Everything a board needs; periodic boards add the expiry of their cycle. */
export interface BoardContext {
  conn: RedisConnection;
  name: string;
  keys: BoardKeys;
  settings: BoardSettings;
  /** The PEXPIREAT (ms) every write sets; throws when the board can no longer be written. */
  expireAt?: () => number;
  /** Whether the object this board came from (a periodic leaderboard) was closed. */
  parentClosed?: () => boolean;
}

/** Builds the board object over `ctx`; nothing is sent until a method is called. */
export function createBoard<TData>(ctx: BoardContext): Leaderboard<TData> {
  const { conn, keys, settings } = ctx;
  const keyList = [keys.scores, keys.data, keys.distinct];
  const run = <T>(script: Script, args: string[], readonly = true) =>
    conn.runScript<T>(script, keyList, [String(settings.shift), settings.ties, ...args], { readonly });
  const flag = (on: boolean | undefined) => (on === true ? '1' : '0');

  const toEntries = (reply: RangeReply) => entriesFromRange<TData>(settings, reply);

  // Plain arounds asked for in the same tick share script calls: at 50 in flight Redis then runs a
  // few calls of many windows instead of 50 calls. With none in flight a call goes out at once, so
  // batching costs nothing at low load.
  const arounds = new ScriptBatcher<string[], RangeReply>(conn, {
    single: aroundPlainScript,
    batch: aroundPlainBatchScript,
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
  const aroundPlain = (member: string, radius: string, fill: string) => arounds.call([member, radius, fill]);

  const lookup = async (members: string[], withData: boolean, withBelow: boolean) => {
    const replies: LookupReply[] = [];
    for (let i = 0; i < members.length; i += LOOKUP_BATCH) {
      const chunk = members.slice(i, i + LOOKUP_BATCH);
      replies.push(await run<LookupReply>(lookupScript, [flag(withData), flag(withBelow), ...chunk]));
    }
    return entriesFromLookup<TData>(settings, members, replies);
  };

  /** The rule for every read's options: undefined for the defaults, never null; flags are booleans. */
  const readOptions = <O extends ReadOptions & { fillBorders?: boolean }>(options: O | undefined): O => {
    const checked = checkOptions('options', options, '{ withData?, ... }');
    checkBoolean('withData', checked.withData);
    checkBoolean('fillBorders', checked.fillBorders);
    return checked;
  };

  const page = async (start: number, size: number, options?: ReadOptions) => {
    if (settings.ties === 'ordinal' && options?.withData !== true) {
      const reply = await conn.send<Array<string | [string, number]>>(
        ['ZRANGE', keys.scores, String(start), String(start + size - 1), 'WITHSCORES'],
        { key: keys.scores, readonly: true },
      );
      return entriesFromZrange<TData>(settings, start, reply);
    }
    return toEntries(
      await run<RangeReply>(rangeScript, [flag(options?.withData), String(start), String(start + size - 1)]),
    );
  };

  let closed = false;
  const open = () => {
    if (closed || ctx.parentClosed?.())
      throw new ClosedError('This leaderboard was closed; create a new one.');
  };
  const board: Leaderboard<TData> = {
    name: ctx.name,
    maxScore: settings.maxScore,
    async submit(member, score, options) {
      open();
      options = checkOptions('options', options, '{ data? }');
      checkMember('member', member);
      if (settings.updatePolicy === 'increment') checkIncrement(settings, score);
      else checkScore(settings, 'score', score);
      const entry = pending(settings, member, score, options?.data, 'data');
      return (await write(ctx, settings.updatePolicy, [entry], () => 'score'))[0] ?? null;
    },
    async increment(member, by, options) {
      open();
      options = checkOptions('options', options, '{ data? }');
      checkMember('member', member);
      checkIncrement(settings, by);
      const entry = pending(settings, member, by, options?.data, 'data');
      return (await write(ctx, 'increment', [entry], () => 'by'))[0] ?? null;
    },
    async submitMany(entries: Submission<TData>[]) {
      open();
      if (!Array.isArray(entries)) throw new InvalidArgumentError('entries', 'expected an array.');
      const list = entries.map((e, i) => {
        checkMember(`entries[${i}].member`, e?.member);
        if (settings.updatePolicy === 'increment') checkIncrement(settings, e.score);
        else checkScore(settings, `entries[${i}].score`, e.score);
        return pending(settings, e.member, e.score, e.data, `entries[${i}].data`);
      });
      if (list.length === 0) return [];
      return write(ctx, settings.updatePolicy, list, (i) => `entries[${i}].score`);
    },
    async remove(members) {
      open();
      const list = typeof members === 'string' ? [members] : members;
      if (!Array.isArray(list))
        throw new InvalidArgumentError('members', 'expected a member or an array of members.');
      for (const [i, m] of list.entries()) checkMember(`members[${i}]`, m);
      let removed = 0;
      for (let i = 0; i < list.length; i += LOOKUP_BATCH) {
        removed += await run<number>(removeScript, list.slice(i, i + LOOKUP_BATCH), false);
      }
      return removed;
    },
    async clear() {
      open();
      await conn.send(['DEL', ...keyList], { key: keys.scores });
    },
    async score(member) {
      open();
      checkMember('member', member);
      const stored = await conn.send<string | null>(['ZSCORE', keys.scores, member], {
        key: keys.scores,
        readonly: true,
      });
      return stored === null ? null : fromStored(settings, stored);
    },
    async rank(member) {
      open();
      checkMember('member', member);
      if (settings.ties === 'ordinal') {
        const index = await conn.send<number | null>(['ZRANK', keys.scores, member], {
          key: keys.scores,
          readonly: true,
        });
        return index === null ? null : index + 1;
      }
      return (await lookup([member], false, false))[0]?.entry.rank ?? null;
    },
    async entry(member, options) {
      open();
      options = readOptions(options);
      checkMember('member', member);
      return (await lookup([member], options?.withData === true, false))[0]?.entry ?? null;
    },
    async top(n, options) {
      open();
      options = readOptions(options);
      checkCount('n', n, 1);
      return page(0, n, options);
    },
    async page(pageNumber, size, options) {
      open();
      options = readOptions(options);
      checkCount('page', pageNumber, 1);
      checkCount('size', size, 1);
      return page((pageNumber - 1) * size, size, options);
    },
    async around(member, radius, options) {
      open();
      options = readOptions(options);
      checkMember('member', member);
      checkCount('radius', radius, 0);
      const args = [flag(options?.withData), member, String(radius), flag(options?.fillBorders)];
      if (settings.ties === 'ordinal' && options?.withData !== true) {
        return toEntries(await aroundPlain(member, String(radius), flag(options?.fillBorders)));
      }
      return toEntries(await run<RangeReply>(aroundScript, args));
    },
    async atRank(rank, options) {
      open();
      options = readOptions(options);
      checkCount('rank', rank, 1);
      if (settings.ties === 'ordinal' && options?.withData !== true)
        return (await page(rank - 1, 1))[0] ?? null;
      return (
        toEntries(await run<RangeReply>(atRankScript, [flag(options?.withData), String(rank)]))[0] ?? null
      );
    },
    async rankedList(members, options) {
      open();
      options = readOptions(options);
      if (!Array.isArray(members)) throw new InvalidArgumentError('members', 'expected an array of members.');
      for (const [i, m] of members.entries()) checkMember(`members[${i}]`, m);
      return (await lookup(members, options?.withData === true, false)).map((found) => found?.entry ?? null);
    },
    async percentile(member) {
      open();
      checkMember('member', member);
      const found = (await lookup([member], false, true))[0];
      return found == null ? null : (100 * found.below) / found.card;
    },
    async count() {
      open();
      return conn.send<number>(['ZCARD', keys.scores], { key: keys.scores, readonly: true });
    },
    async scoreRange(min, max, options) {
      open();
      options = readOptions(options);
      for (const [name, value] of [
        ['min', min],
        ['max', max],
      ] as const) {
        if (typeof value !== 'number' || Number.isNaN(value)) {
          throw new InvalidArgumentError(
            name,
            `expected a number (±Infinity allowed), got ${String(value)}.`,
          );
        }
      }
      if (options?.limit !== undefined) checkCount('limit', options.limit, 1);
      const bounds = storedBounds(settings, min, max);
      if (bounds === null) return [];
      const args = [flag(options?.withData), ...bounds, String(options?.limit ?? -1)];
      return toEntries(await run<RangeReply>(scoreRangeScript, args));
    },
    iterate(options) {
      open();
      options = readOptions(options);
      const batch = options?.batch ?? 500;
      checkCount('batch', batch, 1);
      return (async function* () {
        for (let start = 0; ; start += batch) {
          const entries = await page(start, batch, options);
          yield* entries;
          if (entries.length < batch) return;
        }
      })();
    },
    async close() {
      closed = true;
    },
    [Symbol.asyncDispose]() {
      return board.close();
    },
  };
  return board;
}
