import {
  type BoardRef,
  createLeaderboardInspector,
  type InspectedBoard,
  type InspectReadOptions,
  type LeaderboardEntry,
  type LeaderboardInspector,
} from '@redis-patterns/leaderboard';
import type { Command } from 'commander';
import { type ConnectionSource, OperationError } from '../context.js';
import { argument, collect, integer, listing, moreNote, oneOf, pageAt } from '../options.js';
import type { Act } from '../run.js';
import { formatTable } from '../table.js';

/** The leaderboard package's default prefix. */
export const LEADERBOARD_PREFIX = 'lb:';

/** A leaderboard inspector over the command's connection, under `prefix` (default `--prefix`, else the package's). */
export async function leaderboardInspector(
  ctx: ConnectionSource,
  prefix = ctx.prefix(LEADERBOARD_PREFIX),
): Promise<LeaderboardInspector> {
  return createLeaderboardInspector({ redis: await ctx.connection(), prefix });
}

/** The columns of boards, shared with `status`. */
export const BOARD_COLUMNS = [
  { header: 'BOARD', cell: (b: InspectedBoard) => b.name },
  { header: 'PATH', cell: (b: InspectedBoard) => (b.path.length === 0 ? undefined : b.path.join(',')) },
  { header: 'KIND', cell: (b: InspectedBoard) => b.kind },
  { header: 'MEMBERS', cell: (b: InspectedBoard) => b.size },
];

const ENTRY_COLUMNS = [
  { header: 'RANK', cell: (e: LeaderboardEntry) => e.rank },
  { header: 'MEMBER', cell: (e: LeaderboardEntry) => e.member },
  { header: 'SCORE', cell: (e: LeaderboardEntry) => e.score },
];

/** The board a command names: its name, and with `--path` a cycle, aggregate or matrix board. */
function boardOf(name: string, path: string | undefined): BoardRef {
  return path === undefined ? name : { name, path: path.split(',') };
}

/** The stored format options a read needs (Redis does not record them). */
function formatOf(opts: Record<string, any>): InspectReadOptions {
  return {
    ...(opts.order === undefined ? {} : { order: opts.order }),
    ...(opts.ties === undefined ? {} : { ties: opts.ties }),
    ...(opts.tieBreak === undefined ? {} : { tieBreak: opts.tieBreak }),
  };
}

function read(command: Command): Command {
  return command
    .option('--path <parts>', 'key parts after the name, comma-separated, as `leaderboard list` shows them')
    .option('--order <order>', 'the board order (default high-to-low)', oneOf(['high-to-low', 'low-to-high']))
    .option('--ties <rule>', 'the tie rule (default ordinal)', oneOf(['ordinal', 'dense', 'competition']))
    .option('--tie-break <rule>', 'the tie break (default none)', oneOf(['none', 'earlier-first']));
}

/** `leaderboard list|top|around`. */
export function registerLeaderboard(program: Command, act: Act): void {
  const leaderboard = program
    .command('leaderboard')
    .description('boards of @redis-patterns/leaderboard (prefix default lb:)');
  listing(leaderboard.command('list').description('the boards, cycles and matrix boards, with sizes')).action(
    act(async (ctx, _args, opts) => {
      const inspector = await leaderboardInspector(ctx);
      const page = await collect((cursor) => inspector.list(pageAt(cursor)), opts as never);
      ctx.print(page, () => formatTable(page.items, BOARD_COLUMNS, '(no boards)') + moreNote(page.cursor));
    }),
  );
  read(leaderboard.command('top <board> [n]').description('the best n entries (default 10)')).action(
    act(async (ctx, [board, n], opts) => {
      const count = argument('n', (n as string | undefined) ?? '10', integer(1, 1000));
      const entries = await (await leaderboardInspector(ctx)).top(
        boardOf(board as string, opts.path),
        count,
        formatOf(opts),
      );
      ctx.print(entries, () => formatTable(entries, ENTRY_COLUMNS, `(board '${board}' is empty)`));
    }),
  );
  read(leaderboard.command('around <board> <member>').description("a member's rank and its neighbours"))
    .option('--radius <n>', 'neighbours on each side', integer(0, 1000), 2)
    .action(
      act(async (ctx, [board, member], opts) => {
        const found = await (await leaderboardInspector(ctx)).around(
          boardOf(board as string, opts.path),
          member as string,
          opts.radius,
          formatOf(opts),
        );
        if (found === null) throw new OperationError(`'${member}' is not on board '${board}'.`);
        ctx.print(found, () => formatTable(found.entries, ENTRY_COLUMNS));
      }),
    );
}
