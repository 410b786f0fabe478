import { InvalidArgumentError } from '@redis-patterns/connection';
import type { JobState } from '@redis-patterns/queue';
import { cacheInspector } from '../commands/cache.js';
import { leaderboardInspector } from '../commands/leaderboard.js';
import { lockInspector } from '../commands/lock.js';
import { discoverQueueNames, queueCounts, withQueue } from '../commands/queue.js';
import { rateLimitInspector } from '../commands/ratelimit.js';
import { sessionInspector } from '../commands/session.js';
import type { ConnectionSource } from '../context.js';
import { collect, pageAt } from '../options.js';
import type { ResolvedDashboardOptions } from './options.js';
import type { QueueSampler } from './sampler.js';

/** An answer other than 200: its status and the message the page shows. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const STATES: readonly JobState[] = ['waiting', 'active', 'delayed', 'dead', 'completed'];
/** Most items one listing answer holds: a page stays small and its reads bounded. */
const LIST_LIMIT = 200;

/** What the API reads with. */
export interface ApiContext {
  source: ConnectionSource;
  options: ResolvedDashboardOptions;
  sampler: QueueSampler;
  /** Masks the Redis URL's credentials in a message that may quote it. */
  scrub: (message: string) => string;
}

type Params = URLSearchParams;

/** A required text parameter, else 400. */
function text(params: Params | Record<string, unknown>, name: string): string {
  const value = params instanceof URLSearchParams ? params.get(name) : params[name];
  if (typeof value !== 'string' || value === '') throw new HttpError(400, `'${name}' is required.`);
  return value;
}

/** An integer parameter from `min` to `max`, `fallback` when absent, else 400. */
function int(params: Params, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new HttpError(400, `'${name}' must be an integer from ${min} to ${max}.`);
  }
  return n;
}

/** The listing options of a request: its `cursor`, if any, and the page limit. */
function listingOf(params: Params): { cursor?: string; limit: number } {
  const cursor = params.get('cursor');
  return cursor ? { cursor, limit: LIST_LIMIT } : { limit: LIST_LIMIT };
}

/** A board reference from `board` and an optional comma-separated `path`. */
function boardOf(params: Params) {
  const path = params.get('path');
  const name = text(params, 'board');
  return path ? { name, path: path.split(',') } : name;
}

/** The read endpoints (GET), by path under `api/`. */
export async function read(ctx: ApiContext, path: string, params: Params): Promise<unknown> {
  const { source, options } = ctx;
  const p = options.prefixes;
  switch (path) {
    case 'queues': {
      const found = await discoverQueueNames(await source.connection(), p.queue);
      const names = found.names.slice(0, options.maxSampledQueues);
      return {
        queues: await queueCounts(source, names, p.queue),
        // False when the SCAN stopped at its bound or the list at maxSampledQueues: the page says so.
        complete: found.complete && names.length === found.names.length,
        found: found.names.length,
        samplerError: ctx.sampler.lastError === undefined ? null : ctx.scrub(ctx.sampler.lastError),
      };
    }
    case 'queue': {
      const name = text(params, 'name');
      return withQueue(
        source,
        name,
        async (q) => ({
          name,
          counts: await q.counts(),
          limits: await q.getLimits(),
          schedules: await q.schedules(),
          history: ctx.sampler.history(name, { discover: true }),
          sampleEveryMs: options.sampleEveryMs,
        }),
        p.queue,
      );
    }
    case 'queue/jobs': {
      const state = params.get('state') ?? 'waiting';
      if (!(STATES as readonly string[]).includes(state))
        throw new HttpError(400, `unknown state '${state}'.`);
      const page = { offset: int(params, 'offset', 0, 0, 1e9), count: int(params, 'count', 20, 1, 200) };
      return withQueue(source, text(params, 'name'), (q) => q.list(state as JobState, page), p.queue);
    }
    case 'locks': {
      const locks = await lockInspector(source, p.lock);
      return collect((c) => locks.list(pageAt(c)), listingOf(params));
    }
    case 'leaderboards': {
      const boards = await leaderboardInspector(source, p.leaderboard);
      return collect((c) => boards.list(pageAt(c)), listingOf(params));
    }
    case 'leaderboards/top':
      return (await leaderboardInspector(source, p.leaderboard)).top(
        boardOf(params),
        int(params, 'n', 10, 1, 1000),
      );
    case 'leaderboards/around': {
      const inspector = await leaderboardInspector(source, p.leaderboard);
      const radius = int(params, 'radius', 5, 0, 100);
      return inspector.around(boardOf(params), text(params, 'member'), radius);
    }
    case 'ratelimit':
      return (await rateLimitInspector(source, p.ratelimit)).get(text(params, 'identifier'));
    case 'sessions': {
      const sessions = await sessionInspector(source, p.session);
      const user = text(params, 'user');
      return collect((c) => sessions.listForUser(user, pageAt(c)), listingOf(params));
    }
    case 'cache':
      return (await cacheInspector(source, p.cache)).stats({ sample: 20 });
    default:
      throw new HttpError(404, `no endpoint GET api/${path}.`);
  }
}

/** The write endpoints (POST), by path under `api/`; the caller has checked that writes are allowed. */
export async function write(ctx: ApiContext, path: string, body: Record<string, unknown>): Promise<unknown> {
  const { source, options } = ctx;
  const p = options.prefixes;
  switch (path) {
    case 'queue/retry': {
      const ids = body.ids;
      if (
        !Array.isArray(ids) ||
        ids.length === 0 ||
        ids.length > 1000 ||
        !ids.every((id) => typeof id === 'string')
      ) {
        throw new HttpError(400, "'ids' must be a list of 1 to 1000 job ids.");
      }
      return { retried: await withQueue(source, text(body, 'name'), (q) => q.retryDead(ids), p.queue) };
    }
    case 'queue/remove': {
      const id = text(body, 'id');
      const result = await withQueue(source, text(body, 'name'), (q) => q.remove(id), p.queue);
      if (result === 'missing') throw new HttpError(404, `no job '${id}'.`);
      if (result === 'active') throw new HttpError(409, `job '${id}' is running: it cannot be removed.`);
      return { id, result };
    }
    case 'queue/pause':
    case 'queue/resume': {
      const paused = await withQueue(
        source,
        text(body, 'name'),
        async (q) => {
          await (path === 'queue/pause' ? q.pause() : q.resume());
          return q.isPaused();
        },
        p.queue,
      );
      return { paused };
    }
    case 'sessions/revoke':
      return { revoked: await (await sessionInspector(source, p.session)).revoke(text(body, 'handle')) };
    case 'cache/invalidate':
      return { invalidated: await (await cacheInspector(source, p.cache)).invalidateTag(text(body, 'tag')) };
    default:
      throw new HttpError(404, `no endpoint POST api/${path}.`);
  }
}

/** The status an error answers with: 400 for bad input, its own for an HttpError, else 502 (Redis). */
export function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof InvalidArgumentError) return 400;
  return 502;
}
