import { type CacheInspector, createCacheInspector } from '@redis-patterns/cache-aside';
import type { Command } from 'commander';
import { type ConnectionSource, OperationError } from '../context.js';
import { collect, integer, listing, moreNote, pageAt } from '../options.js';
import type { Act } from '../run.js';
import { formatMs, formatRecord, formatTable } from '../table.js';

/** The cache-aside package's default prefix. */
export const CACHE_PREFIX = 'cache:';

/** A cache inspector over the command's connection, under `prefix` (default `--prefix`, else the package's). */
export async function cacheInspector(
  ctx: ConnectionSource,
  prefix = ctx.prefix(CACHE_PREFIX),
): Promise<CacheInspector> {
  return createCacheInspector({ redis: await ctx.connection(), prefix });
}

/** `cache stats|keys|get|invalidate-tag|delete`. */
export function registerCache(program: Command, act: Act): void {
  const cache = program
    .command('cache')
    .description('entries and tags of @redis-patterns/cache-aside (prefix default cache:)');
  cache
    .command('stats')
    .description('entries, tag versions, loads in flight and memory, from a bounded SCAN and a sample')
    .option('--max-keys <n>', 'most keys the SCAN counts', integer(1, 1_000_000), 10_000)
    .option('--sample <n>', 'entries whose memory and tags are read', integer(1, 1000), 100)
    .action(
      act(async (ctx, _args, opts) => {
        const stats = await (await cacheInspector(ctx)).stats({ maxKeys: opts.maxKeys, sample: opts.sample });
        ctx.print(stats, () => {
          const { tags, ...counts } = stats;
          const tagRows = formatTable(
            tags,
            [
              { header: 'TAG', cell: (t) => t.tag },
              { header: 'SAMPLED ENTRIES', cell: (t) => t.sampledEntries },
            ],
            '(no tags in the sample)',
          );
          return `${formatRecord(counts)}\n${tagRows}`;
        });
      }),
    );
  listing(cache.command('keys').description('cache keys (without the prefix)'))
    .option('--match <glob>', 'only keys matching this glob (the prefix is literal)')
    .action(
      act(async (ctx, _args, opts) => {
        const inspector = await cacheInspector(ctx);
        const match = opts.match === undefined ? {} : { match: opts.match as string };
        const page = await collect(
          (cursor) => inspector.listKeys({ ...pageAt(cursor), ...match }),
          opts as never,
        );
        ctx.print(
          page,
          () =>
            (page.items.length === 0 ? '(no keys)\n' : `${page.items.join('\n')}\n`) + moreNote(page.cursor),
        );
      }),
    );
  cache
    .command('get <key>')
    .description("an entry's TTL, windows, state and tags (its value with --value)")
    .option('--value', 'print the value too')
    .action(
      act(async (ctx, [key], opts) => {
        const entry = await (await cacheInspector(ctx)).get(key as string, { value: opts.value === true });
        if (entry === undefined) throw new OperationError(`no cache entry '${key}'.`);
        ctx.print(entry, () => formatRecord({ ...entry, ttlMs: formatMs(entry.ttlMs) }));
      }),
    );
  cache
    .command('invalidate-tag <tag>')
    .description('invalidate a tag: every entry written with it becomes a miss')
    .action(
      act(async (ctx, [tag]) => {
        await ctx.confirm(`invalidate cache tag '${tag}'`);
        const invalidated = await (await cacheInspector(ctx)).invalidateTag(tag as string);
        ctx.print({ tag, invalidated }, () =>
          invalidated ? `invalidated tag ${tag}\n` : `tag ${tag} had no version: no live entry used it\n`,
        );
      }),
    );
  cache
    .command('delete <pattern>')
    .description('delete the entries whose keys match a glob, a page at a time (progress on stderr)')
    .option('--count <n>', 'keys each page looks at', integer(1, 1000), 500)
    .action(
      act(async (ctx, [pattern], opts) => {
        await ctx.confirm(`delete every cache entry matching '${pattern}'`);
        const inspector = await cacheInspector(ctx);
        let deleted = 0;
        let matched = 0;
        let pages = 0;
        let cursor: string | undefined;
        do {
          const page = await inspector.deleteByPattern(pattern as string, {
            ...pageAt(cursor),
            count: opts.count,
          });
          deleted += page.deleted;
          matched += page.matched;
          pages += 1;
          cursor = page.cursor;
          ctx.note(`page ${pages}: ${page.deleted} deleted (${deleted} in all)`);
        } while (cursor !== undefined);
        ctx.print(
          { pattern, deleted, matched, pages },
          () => `deleted ${deleted} entr${deleted === 1 ? 'y' : 'ies'}\n`,
        );
      }),
    );
}
