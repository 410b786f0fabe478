import { createKeyspace, escapeGlob, type RedisConnection } from '@redis-patterns/connection';
import { scanPage } from '@redis-patterns/connection/internal';
import {
  createQueue,
  type JobInfo,
  type JobState,
  type Queue,
  type QueueCounts,
} from '@redis-patterns/queue';
import type { Command } from 'commander';
import { type ConnectionSource, OperationError } from '../context.js';
import { argument, fromOwnCursor, integer, oneOf } from '../options.js';
import type { Act } from '../run.js';
import { formatMs, formatRecord, formatTable } from '../table.js';

/** Pages of SCAN one discovery of queues reads at most, per kind of key. */
const MAX_DISCOVERY_PAGES = 20;

/** The queue package's default prefix. */
export const QUEUE_PREFIX = 'queue:';
const STATES: readonly JobState[] = ['waiting', 'active', 'delayed', 'dead', 'completed'];
/** Most queues a discovery lists. */
const MAX_QUEUES = 10_000;

/**
 * Payloads as text: JSON when they parse, the stored text otherwise (an app's own serializer is
 * unknown here, and a listing must not fail on one payload).
 */
const lenientJson = {
  name: 'json',
  serialize: (value: unknown) => JSON.stringify(value),
  deserialize: (text: string | Buffer) => {
    try {
      return JSON.parse(String(text));
    } catch {
      return String(text);
    }
  },
};

/**
 * The names of the queues under `prefix`, found by a cluster-wide SCAN of the keys every queue
 * with jobs or settings has (`<prefix>{name}:stats`, `<prefix>{name}:config`).
 */
export async function discoverQueues(conn: RedisConnection, prefix: string): Promise<string[]> {
  return (await discoverQueueNames(conn, prefix)).names;
}

/**
 * {@link discoverQueues}, and whether the SCAN went through the whole keyspace (`complete`) or
 * stopped at its bound of pages or names.
 */
export async function discoverQueueNames(
  conn: RedisConnection,
  prefix: string,
): Promise<{ names: string[]; complete: boolean }> {
  const names = new Set<string>();
  const keyspace = createKeyspace(prefix);
  let complete = true;
  for (const suffix of ['stats', 'config']) {
    // Bounded like the listings: at most MAX_DISCOVERY_PAGES pages of at most ten SCAN calls each.
    let cursor: string | undefined;
    let pages = 0;
    do {
      const at = cursor;
      const page = await fromOwnCursor(() =>
        scanPage(conn, `${escapeGlob(prefix)}{*}:${suffix}`, { cursor: at, count: 500 }),
      );
      for (const key of page.keys) {
        const name = keyspace.tagOf(key);
        if (name !== undefined) names.add(name);
      }
      cursor = page.cursor;
    } while (cursor !== undefined && names.size < MAX_QUEUES && ++pages < MAX_DISCOVERY_PAGES);
    if (cursor !== undefined) complete = false;
  }
  return { names: [...names].sort(), complete };
}

/** Opens queue `name` for one command; the caller closes it (the connection stays open). */
export async function openQueue(
  ctx: ConnectionSource,
  name: string,
  prefix = ctx.prefix(QUEUE_PREFIX),
): Promise<Queue> {
  const redis = await ctx.connection();
  return createQueue({ redis, name, prefix, serializer: lenientJson });
}

/** Runs `fn` with queue `name` open, and closes the queue (not the connection) after it. */
export async function withQueue<R>(
  ctx: ConnectionSource,
  name: string,
  fn: (queue: Queue) => Promise<R>,
  prefix = ctx.prefix(QUEUE_PREFIX),
): Promise<R> {
  const queue = await openQueue(ctx, name, prefix);
  try {
    return await fn(queue);
  } finally {
    await queue.close();
  }
}

/** The columns of a queue's counts, shared with `status`. */
export const COUNT_COLUMNS = [
  { header: 'QUEUE', cell: (r: { name: string } & QueueCounts) => r.name },
  { header: 'WAITING', cell: (r: QueueCounts) => r.waiting },
  { header: 'ACTIVE', cell: (r: QueueCounts) => r.active },
  { header: 'DELAYED', cell: (r: QueueCounts) => r.delayed },
  { header: 'DEAD', cell: (r: QueueCounts) => r.dead },
  { header: 'COMPLETED', cell: (r: QueueCounts) => r.completed },
  { header: 'FAILED', cell: (r: QueueCounts) => r.failed },
  { header: 'PAUSED', cell: (r: QueueCounts) => (r.paused ? 'yes' : 'no') },
];

/** Counts of the named queues, or of every queue found under the prefix. */
export async function queueCounts(
  ctx: ConnectionSource,
  names?: readonly string[],
  prefix = ctx.prefix(QUEUE_PREFIX),
): Promise<Array<{ name: string } & QueueCounts>> {
  const list = names ?? (await discoverQueues(await ctx.connection(), prefix));
  const rows: Array<{ name: string } & QueueCounts> = [];
  for (const name of list) rows.push({ name, ...(await withQueue(ctx, name, (q) => q.counts(), prefix)) });
  return rows;
}

const JOB_COLUMNS = [
  { header: 'ID', cell: (j: JobInfo) => j.id },
  { header: 'STATE', cell: (j: JobInfo) => j.state },
  { header: 'ATTEMPTS', cell: (j: JobInfo) => `${j.attemptsMade}/${j.maxAttempts}` },
  { header: 'PRIORITY', cell: (j: JobInfo) => j.priority },
  { header: 'GROUP', cell: (j: JobInfo) => j.group },
  { header: 'ERROR', cell: (j: JobInfo) => j.lastError ?? j.deadReason },
  { header: 'PAYLOAD', cell: (j: JobInfo) => clip(JSON.stringify(j.payload) ?? '', 60) },
];

const isoTime = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const clip = (text: string, n: number) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/** `queue counts|list|get|retry|remove|cancel|pause|resume|limits|schedules`. */
export function registerQueue(program: Command, act: Act): void {
  const queue = program.command('queue').description('jobs of @redis-patterns/queue (prefix default queue:)');
  queue
    .command('counts [name]')
    .description('sizes and counters of one queue, or of every queue found under the prefix')
    .action(
      act(async (ctx, [name]) => {
        const rows = await queueCounts(ctx, name === undefined ? undefined : [name as string]);
        ctx.print(name === undefined ? rows : rows[0], () => formatTable(rows, COUNT_COLUMNS, '(no queues)'));
      }),
    );
  queue
    .command('list <name> [state]')
    .description(`one page of the jobs in a state: ${STATES.join(', ')} (default waiting)`)
    .option('--offset <n>', 'jobs to skip', integer(0), 0)
    .option('--count <n>', 'jobs on the page', integer(1, 1000), 50)
    .action(
      act(async (ctx, [name, state], opts) => {
        const chosen = argument('state', (state as string | undefined) ?? 'waiting', oneOf(STATES));
        const page = await withQueue(ctx, name as string, (q) =>
          q.list(chosen, { offset: opts.offset, count: opts.count }),
        );
        ctx.print(page, () => {
          const more = page.nextOffset === undefined ? '' : `(more: --offset ${page.nextOffset})\n`;
          return formatTable(page.jobs, JOB_COLUMNS, `(no ${chosen} jobs)`) + more;
        });
      }),
    );
  queue
    .command('get <name> <id>')
    .description('one job: state, attempts, errors, payload')
    .action(
      act(async (ctx, [name, id]) => {
        const job = await withQueue(ctx, name as string, (q) => q.get(id as string));
        if (job === undefined) throw new OperationError(`no job '${id}' in queue '${name}'.`);
        ctx.print(job, () => formatRecord({ ...job, timeoutMs: formatMs(job.timeoutMs) }));
      }),
    );
  queue
    .command('retry <name> [ids...]')
    .description('move dead jobs (these, or all of them) back to waiting with fresh attempts')
    .action(
      act(async (ctx, [name, ids]) => {
        const some = (ids as string[]).length > 0;
        if (!some) await ctx.confirm(`retry every dead job of queue '${name}'`);
        const moved = await withQueue(ctx, name as string, (q) =>
          some ? q.retryDead(ids as string[]) : q.retryDead(),
        );
        ctx.print({ retried: moved }, () => `retried ${moved} dead job(s)\n`);
      }),
    );
  registerJobChanges(queue, act);
}

/** The commands that change one job or the queue's state. */
function registerJobChanges(queue: Command, act: Act): void {
  queue
    .command('remove <name> <id>')
    .description('delete a waiting, delayed, dead or kept completed job')
    .action(
      act(async (ctx, [name, id]) => {
        await ctx.confirm(`remove job '${id}' of queue '${name}'`);
        const result = await withQueue(ctx, name as string, (q) => q.remove(id as string));
        if (result === 'missing') throw new OperationError(`no job '${id}' in queue '${name}'.`);
        if (result === 'active') {
          throw new OperationError(`job '${id}' is running: cancel it with \`queue cancel ${name} ${id}\`.`);
        }
        ctx.print({ id, result }, () => `removed job ${id}\n`);
      }),
    );
  queue
    .command('cancel <name> <id>')
    .description('cancel a job: a running one aborts, one not started goes to the dead-letter set')
    .action(
      act(async (ctx, [name, id]) => {
        await ctx.confirm(`cancel job '${id}' of queue '${name}'`);
        const result = await withQueue(ctx, name as string, (q) => q.cancel(id as string));
        if (result === 'missing') throw new OperationError(`no job '${id}' in queue '${name}'.`);
        ctx.print({ id, result }, () => `job ${id}: ${result}\n`);
      }),
    );
  for (const verb of ['pause', 'resume'] as const) {
    queue
      .command(`${verb} <name>`)
      .description(
        verb === 'pause' ? 'stop workers taking jobs (running jobs finish)' : 'resume a paused queue',
      )
      .action(
        act(async (ctx, [name]) => {
          const paused = await withQueue(ctx, name as string, async (q) => {
            await (verb === 'pause' ? q.pause() : q.resume());
            return q.isPaused();
          });
          ctx.print({ name, paused }, () => `queue ${name} ${paused ? 'paused' : 'running'}\n`);
        }),
      );
  }
  queue
    .command('limits <name>')
    .description('the concurrency and rate limits every worker obeys')
    .action(
      act(async (ctx, [name]) => {
        const limits = await withQueue(ctx, name as string, (q) => q.getLimits());
        ctx.print(limits, () => formatRecord(limits) || '(no limits)\n');
      }),
    );
  queue
    .command('schedules <name>')
    .description('the repeatable jobs of a queue')
    .action(
      act(async (ctx, [name]) => {
        const list = await withQueue(ctx, name as string, (q) => q.schedules());
        ctx.print(list, () =>
          formatTable(
            list,
            [
              { header: 'ID', cell: (s) => s.id },
              { header: 'CRON', cell: (s) => s.cron },
              { header: 'TZ', cell: (s) => s.tz },
              { header: 'EVERY', cell: (s) => (s.everyMs === undefined ? undefined : formatMs(s.everyMs)) },
              { header: 'NEXT RUN', cell: (s) => isoTime(s.nextRunAt) },
              { header: 'PAYLOAD', cell: (s) => clip(JSON.stringify(s.payload) ?? '', 60) },
            ],
            '(no schedules)',
          ),
        );
      }),
    );
}
