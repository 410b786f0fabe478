import {
  createKeyspace,
  InvalidArgumentError,
  type RedisConnection,
  type RedisLike,
} from '@redis-patterns/connection';
import { CACHE_PREFIX } from '../commands/cache.js';
import { LEADERBOARD_PREFIX } from '../commands/leaderboard.js';
import { LOCK_PREFIX } from '../commands/lock.js';
import { QUEUE_PREFIX } from '../commands/queue.js';
import { RATELIMIT_PREFIX } from '../commands/ratelimit.js';
import { SESSION_PREFIX } from '../commands/session.js';
import { randomSecret } from './auth.js';

/** The key prefix of each pattern the dashboard reads; each falls back to the pattern package's own. */
export interface DashboardPrefixes {
  /** @default 'queue:' */
  queue?: string;
  /** @default 'lock:' */
  lock?: string;
  /** @default 'rl:' */
  ratelimit?: string;
  /** @default 'lb:' */
  leaderboard?: string;
  /** @default 'session:' */
  session?: string;
  /** @default 'cache:' */
  cache?: string;
}

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /**
   * The Redis to show: a connection from `connect()`, a node-redis client, cluster or sentinel (the
   * caller keeps closing those), or a URL (the dashboard connects, and closes it in `close()`).
   */
  redis: RedisConnection | RedisLike | string;
  /** Key prefixes per pattern. @default each pattern package's own prefix */
  prefixes?: DashboardPrefixes;
  /**
   * The secret a person types on the login page (or a script sends as `Authorization: Bearer`).
   * `false` turns the dashboard's own login off: only for mounting it behind the host app's auth.
   * @default a random 32-byte base64url token, readable as `dashboard.token`
   */
  token?: string | false;
  /** Whether the page may retry, remove, pause, resume, revoke and invalidate. @default false */
  allowWrites?: boolean;
  /** How far back the queue charts reach, in ms. @default 600000 (10 minutes) */
  historyMs?: number;
  /** How often every queue's counts are sampled for the charts, in ms. @default 1000 */
  sampleEveryMs?: number;
  /** Most queues sampled for the charts (the first by name). @default 50 */
  maxSampledQueues?: number;
  /**
   * The only `Host` header names (without port) requests may carry; any other is refused with 421.
   * Pass {@link LOOPBACK_HOSTS} when the server listens on loopback only: a DNS-rebinding page then
   * cannot reach it under its own name.
   * @default undefined (any host: the host app or its proxy decides)
   */
  allowedHosts?: readonly string[];
  /**
   * The path the handler is mounted under when the framework does not strip it from `req.url`
   * (Fastify's `req.raw`); Express's `app.use('/ops', handler)` needs none. A request whose raw
   * path is not under it answers 404.
   * @default ''
   */
  basePath?: string;
  /** Bound of connecting and of every command when `redis` is a URL, in ms. @default 3000 */
  timeoutMs?: number;
}

/** The host names of the loopback interface, for {@link DashboardOptions.allowedHosts}. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '[::1]', '::1'];

/** The options with every default applied. */
export interface ResolvedDashboardOptions {
  prefixes: Required<DashboardPrefixes>;
  token: string | false;
  allowWrites: boolean;
  historyMs: number;
  sampleEveryMs: number;
  maxSampledQueues: number;
  allowedHosts: readonly string[] | undefined;
  basePath: string;
  timeoutMs: number;
}

/** The options with every default applied, checked. */
export function resolveOptions(options: Omit<DashboardOptions, 'redis'>): ResolvedDashboardOptions {
  if (typeof options.token === 'string' && options.token.length < 8) {
    throw new InvalidArgumentError(
      'token',
      'is shorter than 8 characters; give a longer one, or none for a random one.',
    );
  }
  for (const name of ['historyMs', 'sampleEveryMs', 'maxSampledQueues', 'timeoutMs'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new InvalidArgumentError(name, `expected a positive number, got ${String(value)}.`);
    }
  }
  const p = options.prefixes ?? {};
  const prefixes: Required<DashboardPrefixes> = {
    queue: p.queue ?? QUEUE_PREFIX,
    lock: p.lock ?? LOCK_PREFIX,
    ratelimit: p.ratelimit ?? RATELIMIT_PREFIX,
    leaderboard: p.leaderboard ?? LEADERBOARD_PREFIX,
    session: p.session ?? SESSION_PREFIX,
    cache: p.cache ?? CACHE_PREFIX,
  };
  // A prefix no keyspace accepts would fail every endpoint later: refuse it now.
  for (const [name, prefix] of Object.entries(prefixes)) {
    try {
      createKeyspace(prefix);
    } catch (err) {
      throw new InvalidArgumentError(`prefixes.${name}`, (err as Error).message.replace(/^[^:]*: /, ''));
    }
  }
  return {
    prefixes,
    token: options.token ?? randomSecret(),
    allowWrites: options.allowWrites ?? false,
    historyMs: options.historyMs ?? 600_000,
    sampleEveryMs: options.sampleEveryMs ?? 1000,
    maxSampledQueues: options.maxSampledQueues ?? 50,
    allowedHosts: options.allowedHosts?.map((h) => h.toLowerCase()),
    basePath: (options.basePath ?? '').replace(/\/+$/, ''),
    timeoutMs: options.timeoutMs ?? 3000,
  };
}
