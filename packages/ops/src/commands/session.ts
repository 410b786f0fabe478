import {
  createSessionInspector,
  type InspectedSession,
  type SessionInspector,
} from '@redis-patterns/session';
import type { Command } from 'commander';
import { type ConnectionSource, OperationError, UsageError } from '../context.js';
import { collect, listing, moreNote, pageAt } from '../options.js';
import type { Act } from '../run.js';
import { formatMs, formatRecord, formatTable } from '../table.js';

/** The session package's default prefix. */
export const SESSION_PREFIX = 'session:';

/** A session inspector over the command's connection, under `prefix` (default `--prefix`, else the package's). */
export async function sessionInspector(
  ctx: ConnectionSource,
  prefix = ctx.prefix(SESSION_PREFIX),
): Promise<SessionInspector> {
  return createSessionInspector({ redis: await ctx.connection(), prefix });
}

const SESSION_COLUMNS = [
  { header: 'HANDLE', cell: (s: InspectedSession) => s.handle },
  { header: 'USER', cell: (s: InspectedSession) => s.userId },
  { header: 'TTL', cell: (s: InspectedSession) => formatMs(s.ttlMs) },
  { header: 'BYTES', cell: (s: InspectedSession) => s.dataBytes },
  { header: 'CREATED', cell: (s: InspectedSession) => new Date(s.createdAt).toISOString() },
];

/** `session list|user|get|revoke`. */
export function registerSession(program: Command, act: Act): void {
  const session = program
    .command('session')
    .description('sessions of @redis-patterns/session, by handle (prefix default session:)');
  listing(session.command('list').description('every live session (metadata only, never data)')).action(
    act(async (ctx, _args, opts) => {
      const inspector = await sessionInspector(ctx);
      const page = await collect((cursor) => inspector.listSessions(pageAt(cursor)), opts as never);
      ctx.print(
        page,
        () => formatTable(page.items, SESSION_COLUMNS, '(no sessions)') + moreNote(page.cursor),
      );
    }),
  );
  listing(session.command('user <userId>').description("a user's sessions, from the user's index")).action(
    act(async (ctx, [userId], opts) => {
      const inspector = await sessionInspector(ctx);
      const page = await collect(
        (cursor) => inspector.listForUser(userId as string, pageAt(cursor)),
        opts as never,
      );
      ctx.print(
        page,
        () =>
          formatTable(page.items, SESSION_COLUMNS, `(no sessions for '${userId}')`) + moreNote(page.cursor),
      );
    }),
  );
  session
    .command('get <handle>')
    .description('one session with its stored data (does not refresh it)')
    .action(
      act(async (ctx, [handle]) => {
        const found = await (await sessionInspector(ctx)).get(handle as string);
        if (found === null) throw new OperationError(`no live session with handle '${handle}'.`);
        ctx.print(found, () => formatRecord({ ...found, ttlMs: formatMs(found.ttlMs) }));
      }),
    );
  session
    .command('revoke [handle]')
    .description('end one session by handle, or every session of a user with --user')
    .option('--user <userId>', "end every session in the user's index")
    .action(
      act(async (ctx, [handle], opts) => {
        const user = opts.user as string | undefined;
        if ((handle === undefined) === (user === undefined)) {
          throw new UsageError('give a session handle or --user <userId>, not both.');
        }
        const inspector = await sessionInspector(ctx);
        if (user !== undefined) {
          await ctx.confirm(`revoke every session of user '${user}'`);
          const result = await inspector.revokeUser(user);
          ctx.print({ user, ...result }, () => `revoked ${result.revoked} session(s) of ${user}\n`);
          return;
        }
        await ctx.confirm(`revoke session '${handle}'`);
        if (!(await inspector.revoke(handle as string))) {
          throw new OperationError(`no live session with handle '${handle}'.`);
        }
        ctx.print({ handle, revoked: true }, () => `revoked session ${handle}\n`);
      }),
    );
}
