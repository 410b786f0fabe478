import { createLockInspector, type InspectedLock, type LockInspector } from '@redis-patterns/lock';
import type { Command } from 'commander';
import { type ConnectionSource, OperationError } from '../context.js';
import { collect, listing, moreNote, pageAt } from '../options.js';
import type { Act } from '../run.js';
import { formatMs, formatRecord, formatTable } from '../table.js';

/** The lock package's default prefix (`createLock`; semaphores and read/write locks have their own). */
export const LOCK_PREFIX = 'lock:';

/** A lock inspector over the command's connection, under `prefix` (default `--prefix`, else the package's). */
export async function lockInspector(
  ctx: ConnectionSource,
  prefix = ctx.prefix(LOCK_PREFIX),
): Promise<LockInspector> {
  return createLockInspector({ redis: await ctx.connection(), prefix });
}

/** The columns of held locks, shared with `status`. */
export const LOCK_COLUMNS = [
  { header: 'NAME', cell: (l: InspectedLock) => l.name },
  { header: 'KIND', cell: (l: InspectedLock) => l.kind },
  { header: 'HOLDERS', cell: (l: InspectedLock) => l.holderCount },
  { header: 'WAITERS', cell: (l: InspectedLock) => l.waiters.length },
  { header: 'TTL', cell: (l: InspectedLock) => formatMs(Math.min(...l.holders.map((h) => h.ttlMs))) },
  { header: 'TOKEN', cell: (l: InspectedLock) => l.lastFencingToken },
];

/** `lock list|get|release`. */
export function registerLock(program: Command, act: Act): void {
  const lock = program
    .command('lock')
    .description('mutexes, semaphores and read/write locks of @redis-patterns/lock (prefix default lock:)');
  listing(lock.command('list').description('the names held now, with holders and waiters')).action(
    act(async (ctx, _args, opts) => {
      const inspector = await lockInspector(ctx);
      const page = await collect((cursor) => inspector.list(pageAt(cursor)), opts as never);
      ctx.print(page, () => formatTable(page.items, LOCK_COLUMNS, '(no locks held)') + moreNote(page.cursor));
    }),
  );
  lock
    .command('get <name>')
    .description('the holders, waiters and fencing token of one name')
    .action(
      act(async (ctx, [name]) => {
        const found = await (await lockInspector(ctx)).get(name as string);
        if (found === null) throw new OperationError(`lock '${name}' is not held and has no waiters.`);
        ctx.print(found, () => {
          const { holders, waiters, ...rest } = found;
          const holderRows = formatTable(
            holders,
            [
              { header: 'OWNER', cell: (h) => h.owner },
              { header: 'TTL', cell: (h) => formatMs(h.ttlMs) },
              { header: 'TOKEN', cell: (h) => h.fencingToken },
              { header: 'SLOT', cell: (h) => h.slot },
              { header: 'MODE', cell: (h) => h.mode },
            ],
            '(no holders)',
          );
          const waiterRows = formatTable(
            waiters,
            [
              { header: 'WAITER', cell: (w) => w.id },
              { header: 'KIND', cell: (w) => w.kind },
              { header: 'TTL', cell: (w) => formatMs(w.ttlMs) },
            ],
            '(no waiters)',
          );
          return `${formatRecord(rest)}\n${holderRows}\n${waiterRows}`;
        });
      }),
    );
  lock
    .command('release <name>')
    .description('force-release every grant of a name (or one holder with --owner); holders see it as lost')
    .option('--owner <owner>', 'release only the grant of this owner id (from `lock get`)')
    .action(
      act(async (ctx, [name], opts) => {
        const owner = opts.owner as string | undefined;
        await ctx.confirm(`force-release lock '${name}'${owner === undefined ? '' : ` held by ${owner}`}`);
        const inspector = await lockInspector(ctx);
        const released =
          owner === undefined
            ? await inspector.forceRelease(name as string)
            : Number(await inspector.forceReleaseHolder(name as string, owner));
        if (released === 0) throw new OperationError(`lock '${name}' had no live grant to release.`);
        ctx.print({ name, released }, () => `released ${released} grant(s) of ${name}\n`);
      }),
    );
}
