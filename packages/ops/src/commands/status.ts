import type { InspectedBoard } from '@redis-patterns/leaderboard';
import type { InspectedLock } from '@redis-patterns/lock';
import type { QueueCounts } from '@redis-patterns/queue';
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { collect, integer, pageAt } from '../options.js';
import type { Act } from '../run.js';
import { formatTable } from '../table.js';
import { cacheInspector } from './cache.js';
import { BOARD_COLUMNS, leaderboardInspector } from './leaderboard.js';
import { LOCK_COLUMNS, lockInspector } from './lock.js';
import { type PatternPrefixes, prefixesOf, prefixOptions } from './prefixes.js';
import { COUNT_COLUMNS, queueCounts } from './queue.js';
import { rateLimitInspector } from './ratelimit.js';
import { sessionInspector } from './session.js';

/** Most items each section reads: `status` stays bounded on a large keyspace. */
const SECTION_LIMIT = 1000;
/** Most sessions and rate-limit keys counted. */
const COUNT_LIMIT = 10_000;
const DEFAULT_WATCH_MS = 2000;

/** Every pattern's state at a glance, as `status --json` prints it. */
export interface StatusSnapshot {
  /** When it was read (ISO time, this machine's clock). */
  at: string;
  queues: Array<{ name: string } & QueueCounts>;
  locks: { held: number; complete: boolean; items: InspectedLock[] };
  rateLimits: { keys: number; complete: boolean };
  cache: {
    entries: number;
    tagVersions: number;
    loadsInFlight: number;
    approxMemoryBytes: number;
    complete: boolean;
  };
  sessions: { count: number; complete: boolean };
  boards: { count: number; complete: boolean; items: InspectedBoard[] };
}

/** Reads every section, one after the other, each bounded. */
async function snapshot(ctx: Context, p: PatternPrefixes): Promise<StatusSnapshot> {
  const queues = await queueCounts(ctx, undefined, p.queue);
  const locks = await lockInspector(ctx, p.lock);
  const held = await collect((c) => locks.list(pageAt(c)), { limit: SECTION_LIMIT });
  const limits = await rateLimitInspector(ctx, p.ratelimit);
  const limited = await collect((c) => limits.list(pageAt(c)), { limit: COUNT_LIMIT });
  const { tags: _tags, ...cache } = await (await cacheInspector(ctx, p.cache)).stats({ sample: 20 });
  const sessions = await sessionInspector(ctx, p.session);
  const live = await collect((c) => sessions.listSessions(pageAt(c)), { limit: COUNT_LIMIT });
  const boards = await leaderboardInspector(ctx, p.leaderboard);
  const found = await collect((c) => boards.list(pageAt(c)), { limit: SECTION_LIMIT });
  return {
    at: new Date().toISOString(),
    queues,
    locks: { held: held.items.length, complete: held.cursor === undefined, items: held.items },
    rateLimits: { keys: limited.items.length, complete: limited.cursor === undefined },
    cache: {
      entries: cache.entries,
      tagVersions: cache.tagVersions,
      loadsInFlight: cache.loadsInFlight,
      approxMemoryBytes: cache.approxMemoryBytes,
      complete: cache.complete,
    },
    sessions: { count: live.items.length, complete: live.cursor === undefined },
    boards: { count: found.items.length, complete: found.cursor === undefined, items: found.items },
  };
}

const atLeast = (n: number, complete: boolean) => `${n}${complete ? '' : '+'}`;

/** The snapshot as a screenful for people. */
function render(s: StatusSnapshot, url: string): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  return [
    `redis-patterns status of ${url} at ${s.at}\n`,
    `\nQueues (${s.queues.length})\n`,
    formatTable(s.queues, COUNT_COLUMNS, '(no queues)'),
    `\nLocks held: ${atLeast(s.locks.held, s.locks.complete)}\n`,
    s.locks.held === 0 ? '' : formatTable(s.locks.items, LOCK_COLUMNS),
    `\nCache: ${atLeast(s.cache.entries, s.cache.complete)} entries, ${s.cache.tagVersions} tag versions, `,
    `${s.cache.loadsInFlight} loads in flight, about ${kb(s.cache.approxMemoryBytes)}\n`,
    `Sessions: ${atLeast(s.sessions.count, s.sessions.complete)}\n`,
    `Rate-limit keys: ${atLeast(s.rateLimits.keys, s.rateLimits.complete)}\n`,
    `\nLeaderboards (${atLeast(s.boards.count, s.boards.complete)})\n`,
    formatTable(s.boards.items, BOARD_COLUMNS, '(no boards)'),
  ].join('');
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** `status [--watch [ms]]`. */
export function registerStatus(program: Command, act: Act): void {
  const command = program
    .command('status')
    .description("every pattern's state at a glance; --watch redraws it until Ctrl-C")
    .option('--watch [ms]', `refresh every ms (default ${DEFAULT_WATCH_MS})`, integer(100, 3_600_000));
  prefixOptions(command);
  command.action(
    act(async (ctx, _args, opts) => {
      const prefixes = prefixesOf(ctx, opts);
      const url = ctx.shownUrl();
      if (opts.watch === undefined) {
        const s = await snapshot(ctx, prefixes);
        ctx.print(s, () => render(s, url));
        return;
      }
      await watch(ctx, prefixes, opts.watch === true ? DEFAULT_WATCH_MS : opts.watch, url);
    }),
  );
}

/**
 * Redraws the status every `ms` until the run's signal aborts (Ctrl-C in the bin, which then
 * closes the connection). The first read must succeed; a later failed read is shown and retried.
 */
async function watch(ctx: Context, prefixes: PatternPrefixes, ms: number, url: string): Promise<void> {
  const own = new AbortController();
  const onSigint = () => own.abort();
  if (ctx.io.signal === undefined) process.once('SIGINT', onSigint);
  const signal = ctx.io.signal ?? own.signal;
  const terminal = ctx.io.stdout.isTTY === true && !ctx.options.json;
  try {
    let first = true;
    while (!signal.aborted) {
      let text: string;
      try {
        const s = await snapshot(ctx, prefixes);
        text = ctx.options.json ? `${JSON.stringify(s)}\n` : render(s, url);
      } catch (err) {
        if (first) throw err;
        text = `redis-patterns status of ${url}: read failed: ${(err as Error).message}\n`;
      }
      first = false;
      if (signal.aborted) break;
      ctx.io.stdout.write(terminal ? `\x1b[H\x1b[2J${text}` : `${text}${ctx.options.json ? '' : '\n'}`);
      await pause(ms, signal);
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
