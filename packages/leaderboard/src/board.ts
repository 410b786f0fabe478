import { ClosedError, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { checkBoolean, checkOptions } from '@redis-patterns/connection/internal';
import { checkCount, checkIncrement, checkMember, checkScore, fromStored, storedBounds } from './codec.js';
import { boardCommands } from './commands/index.js';
import type { BoardSettings } from './options.js';
import { instrumentBoard, tracePages } from './otel.js';
import {
  entriesFromLookup,
  entriesFromRange,
  entriesFromZrange,
  type RangeReply,
  standingFromAmong,
} from './replies.js';
import type { AmongOptions, Leaderboard, ReadOptions, Submission } from './types.js';
import { pending, write } from './writes.js';

/** The Redis keys of one board; all share one hash tag. */
export interface BoardKeys {
  scores: string;
  data: string;
  distinct: string;
}

/** The most members one `among` call ranks: the script that sorts them runs alone on Redis. */
export const MAX_AMONG = 10_000;

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
  const commands = boardCommands(conn, keys, settings);

  const toEntries = (reply: RangeReply) => entriesFromRange<TData>(settings, reply);

  const lookup = async (members: string[], withData: boolean, withBelow: boolean) =>
    entriesFromLookup<TData>(settings, members, await commands.lookup(members, withData, withBelow));

  /** The rule for every read's options: undefined for the defaults, never null; flags are booleans. */
  const readOptions = <O extends ReadOptions & { fillBorders?: boolean }>(options: O | undefined): O => {
    const checked = checkOptions('options', options, '{ withData?, ... }');
    checkBoolean('withData', checked.withData);
    checkBoolean('fillBorders', checked.fillBorders);
    return checked;
  };

  const page = async (start: number, size: number, options?: ReadOptions) => {
    const withData = options?.withData === true;
    if (settings.ties === 'ordinal' && !withData) {
      return entriesFromZrange<TData>(settings, start, await commands.zrange(start, start + size - 1));
    }
    return toEntries(await commands.range(start, start + size - 1, withData));
  };

  let closed = false;
  const open = () => {
    if (closed || ctx.parentClosed?.())
      throw new ClosedError('This leaderboard was closed; create a new one.');
  };
  const board: Leaderboard<TData> = instrumentBoard({
    name: ctx.name,
    maxScore: settings.maxScore,
    async submit(member, score, options) {
      open();
      options = checkOptions('options', options, '{ data? }');
      checkMember('member', member);
      if (settings.updatePolicy === 'increment') checkIncrement(settings, score);
      else checkScore(settings, 'score', score);
      const entry = pending(settings, member, score, options?.data, 'data');
      return (await write(ctx, commands, settings.updatePolicy, [entry], () => 'score'))[0] ?? null;
    },
    async increment(member, by, options) {
      open();
      options = checkOptions('options', options, '{ data? }');
      checkMember('member', member);
      checkIncrement(settings, by);
      const entry = pending(settings, member, by, options?.data, 'data');
      return (await write(ctx, commands, 'increment', [entry], () => 'by'))[0] ?? null;
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
      return write(ctx, commands, settings.updatePolicy, list, (i) => `entries[${i}].score`);
    },
    async remove(members) {
      open();
      const list = typeof members === 'string' ? [members] : members;
      if (!Array.isArray(list))
        throw new InvalidArgumentError('members', 'expected a member or an array of members.');
      for (const [i, m] of list.entries()) checkMember(`members[${i}]`, m);
      return commands.remove(list);
    },
    async clear() {
      open();
      await commands.clear();
    },
    async score(member) {
      open();
      checkMember('member', member);
      const stored = await commands.storedScore(member);
      return stored === null ? null : fromStored(settings, stored);
    },
    async rank(member) {
      open();
      checkMember('member', member);
      if (settings.ties === 'ordinal') {
        const index = await commands.ordinalIndex(member);
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
      const withData = options?.withData === true;
      const fillBorders = options?.fillBorders === true;
      if (settings.ties === 'ordinal' && !withData) {
        return toEntries(await commands.aroundPlain(member, radius, fillBorders));
      }
      return toEntries(await commands.around(member, radius, withData, fillBorders));
    },
    async atRank(rank, options) {
      open();
      options = readOptions(options);
      checkCount('rank', rank, 1);
      const withData = options?.withData === true;
      if (settings.ties === 'ordinal' && !withData) return (await page(rank - 1, 1))[0] ?? null;
      return toEntries(await commands.atRank(rank, withData))[0] ?? null;
    },
    async rankedList(members, options) {
      open();
      options = readOptions(options);
      if (!Array.isArray(members)) throw new InvalidArgumentError('members', 'expected an array of members.');
      for (const [i, m] of members.entries()) checkMember(`members[${i}]`, m);
      return (await lookup(members, options?.withData === true, false)).map((found) => found?.entry ?? null);
    },
    async among(members, options) {
      open();
      const checked = readOptions<AmongOptions>(options);
      const distinct = amongMembers(members, checked.member);
      const radius = checked.radius ?? 0;
      const top = checked.top ?? 10;
      checkCount('radius', radius, 0);
      checkCount('top', top, 0);
      const reply = await commands.among(
        distinct,
        checked.member ?? '',
        radius,
        checked.fillBorders === true,
        top,
        checked.withData === true,
      );
      return standingFromAmong<TData>(settings, checked.member, reply);
    },
    async percentile(member) {
      open();
      checkMember('member', member);
      const found = (await lookup([member], false, true))[0];
      return found == null ? null : (100 * found.below) / found.card;
    },
    async count() {
      open();
      return commands.count();
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
      return toEntries(await commands.scoreRange(bounds, options?.limit ?? -1, options?.withData === true));
    },
    iterate(options) {
      open();
      options = readOptions(options);
      const batch = options?.batch ?? 500;
      checkCount('batch', batch, 1);
      const traced = tracePages(ctx.name);
      return (async function* () {
        for (let start = 0; ; start += batch) {
          const entries = await traced(() => page(start, batch, options));
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
  });
  return board;
}

/** The set of an `among` call, checked and without repeats, `member` added when not listed. */
function amongMembers(members: unknown, member: string | undefined): string[] {
  if (!Array.isArray(members)) throw new InvalidArgumentError('members', 'expected an array of members.');
  if (member !== undefined) checkMember('member', member);
  const set = new Set<string>();
  for (const [i, m] of members.entries()) {
    checkMember(`members[${i}]`, m);
    set.add(m);
  }
  if (member !== undefined) set.add(member);
  if (set.size > MAX_AMONG) {
    throw new InvalidArgumentError(
      'members',
      `${set.size} distinct members; among() ranks at most ${MAX_AMONG} per call (it sorts them in one script, which Redis runs alone).`,
    );
  }
  return [...set];
}
