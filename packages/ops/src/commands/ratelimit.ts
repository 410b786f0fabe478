import {
  createRateLimitInspector,
  type RateLimitInspector,
  type RateLimitKey,
} from '@redis-patterns/rate-limit';
import type { Command } from 'commander';
import { type ConnectionSource, OperationError } from '../context.js';
import { collect, listing, moreNote, pageAt } from '../options.js';
import type { Act } from '../run.js';
import { formatRecord, formatTable } from '../table.js';

/** The rate-limit package's default prefix. */
export const RATELIMIT_PREFIX = 'rl:';

/** A rate-limit inspector over the command's connection, under `prefix` (default `--prefix`, else the package's). */
export async function rateLimitInspector(
  ctx: ConnectionSource,
  prefix = ctx.prefix(RATELIMIT_PREFIX),
): Promise<RateLimitInspector> {
  return createRateLimitInspector({ redis: await ctx.connection(), prefix });
}

const KEY_COLUMNS = [
  { header: 'IDENTIFIER', cell: (k: RateLimitKey) => k.identifier },
  { header: 'KIND', cell: (k: RateLimitKey) => k.kind },
  { header: 'ALGORITHMS', cell: (k: RateLimitKey) => k.algorithms.join('+') },
  { header: 'KEY', cell: (k: RateLimitKey) => k.key },
];

/** `ratelimit list|get|reset`. */
export function registerRateLimit(program: Command, act: Act): void {
  const ratelimit = program
    .command('ratelimit')
    .description('limiter state of @redis-patterns/rate-limit (prefix default rl:)');
  listing(ratelimit.command('list').description('the keys with live state: identifiers and blocks')).action(
    act(async (ctx, _args, opts) => {
      const inspector = await rateLimitInspector(ctx);
      const page = await collect((cursor) => inspector.list(pageAt(cursor)), opts as never);
      ctx.print(
        page,
        () => formatTable(page.items, KEY_COLUMNS, '(no rate-limit state)') + moreNote(page.cursor),
      );
    }),
  );
  ratelimit
    .command('get <identifier>')
    .description("an identifier's counts under each algorithm, and its blocks")
    .action(
      act(async (ctx, [identifier]) => {
        const state = await (await rateLimitInspector(ctx)).get(identifier as string);
        ctx.print(state, () => formatRecord(state));
      }),
    );
  ratelimit
    .command('reset <identifier>')
    .description('forget an identifier under every algorithm of the prefix and lift its blocks')
    .action(
      act(async (ctx, [identifier]) => {
        await ctx.confirm(`reset the rate limits of '${identifier}'`);
        const deleted = await (await rateLimitInspector(ctx)).reset(identifier as string);
        if (deleted === 0) throw new OperationError(`'${identifier}' has no rate-limit state to reset.`);
        ctx.print({ identifier, deleted }, () => `reset ${identifier}: ${deleted} key(s) deleted\n`);
      }),
    );
}
