import { DEFAULTS, waitReady } from './clients.js';
import { Connection } from './connection.js';
import { ConnectionError, InvalidArgumentError, TimeoutError } from './errors.js';
import { checkOptions } from './options.js';
import type { ConnectionOptions, RedisConnection, RedisLike } from './types.js';

const connections = new WeakMap<object, Connection>();

/**
 * Connects to Redis and resolves once the connection is ready, or rejects with
 * {@link ConnectionError} after `connectTimeoutMs`.
 *
 * @example
 * ```ts
 * import { connect } from '@redis-patterns/connection';
 *
 * await using redis = await connect({ url: 'redis://127.0.0.1:6379' });
 * await redis.send(['SET', 'greeting', 'hello']);
 * const value = await redis.bounded(redis.client.get('greeting'));
 * ```
 */
export async function connect(options?: ConnectionOptions): Promise<RedisConnection> {
  const conn = new Connection(checkOptions('options', options, 'connection options'));
  const ready = waitReady(() => conn.allReady());
  // Keeps the process alive until connect() settles: the deadline sweep is unref'd, and a Cluster
  // whose seed nodes all refuse holds no socket or timer of its own, so a script awaiting connect()
  // would otherwise end with Node's "unsettled top-level await" (exit 13) instead of this error.
  const keepAlive = setInterval(() => {}, 60_000);
  try {
    // While the socket is down an expiring wait is reported as a ConnectionError naming the last
    // socket or auth error (see `expired` below); a TimeoutError means connected but not ready.
    await conn.bounded(ready.promise, options?.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs, 'connect');
  } catch (err) {
    ready.cancel();
    // A client the caller passed in stays theirs: never destroyed here.
    conn.destroyOwned();
    await conn.close().catch(() => {});
    throw err instanceof TimeoutError
      ? new ConnectionError(`Redis did not become ready within ${err.timeoutMs} ms.`, { cause: err })
      : err;
  } finally {
    clearInterval(keepAlive);
  }
  return conn;
}

/**
 * Turns whatever the user passed as `redis` into a {@link RedisConnection}, once per object. Patterns
 * call this in their factories; a node-redis object that is not open yet is connected in the background.
 * The connection listens to the object's `error` events (to name the cause in its errors), so a
 * reconnecting client no longer crashes a process that forgot its own `error` listener.
 */
export function toConnection(redis: RedisLike): RedisConnection {
  if (redis === null || typeof redis !== 'object') {
    throw new InvalidArgumentError(
      'redis',
      'expected a connection from connect() or a node-redis client, cluster or sentinel.',
    );
  }
  if (isConnection(redis)) return redis;
  const existing = connections.get(redis);
  // A client closed and opened again gets a new connection: the old one closed with it.
  if (existing !== undefined && !existing.closed) return existing;
  const conn = new Connection({ client: redis });
  connections.set(redis, conn);
  return conn;
}

function isConnection(value: object): value is RedisConnection {
  return 'isolated' in value && 'bounded' in value && 'topology' in value;
}
