import type { Command } from 'commander';
import type { Context } from '../context.js';
import { CACHE_PREFIX } from './cache.js';
import { LEADERBOARD_PREFIX } from './leaderboard.js';
import { LOCK_PREFIX } from './lock.js';
import { QUEUE_PREFIX } from './queue.js';
import { RATELIMIT_PREFIX } from './ratelimit.js';
import { SESSION_PREFIX } from './session.js';

/** Every pattern's key prefix, by the name of its subcommand. */
export type PatternPrefixes = Record<
  'queue' | 'lock' | 'ratelimit' | 'leaderboard' | 'session' | 'cache',
  string
>;

/** Each pattern package's own default prefix. */
const DEFAULTS: PatternPrefixes = {
  queue: QUEUE_PREFIX,
  lock: LOCK_PREFIX,
  ratelimit: RATELIMIT_PREFIX,
  leaderboard: LEADERBOARD_PREFIX,
  session: SESSION_PREFIX,
  cache: CACHE_PREFIX,
};

/** Adds `--<pattern>-prefix` for every pattern, for the commands that show them all. */
export function prefixOptions(command: Command): Command {
  for (const [pattern, fallback] of Object.entries(DEFAULTS)) {
    command.option(
      `--${pattern}-prefix <prefix>`,
      `prefix of the ${pattern} keys (default --prefix, else ${fallback})`,
    );
  }
  return command;
}

/** Each pattern's prefix: its `--<pattern>-prefix`, else `--prefix`, else the package's own. */
export function prefixesOf(ctx: Context, opts: Record<string, unknown>): PatternPrefixes {
  return Object.fromEntries(
    Object.entries(DEFAULTS).map(([pattern, fallback]) => [
      pattern,
      (opts[`${pattern}Prefix`] as string | undefined) ?? ctx.prefix(fallback),
    ]),
  ) as PatternPrefixes;
}
