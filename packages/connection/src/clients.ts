import { createClient, createCluster, createSentinel } from 'redis';
import { ConnectionError, InvalidArgumentError, toPatternsError } from './errors.js';
import type { ParsedRedisUrl } from './options.js';
import type { ConnectionOptions, RedisClient, RedisCluster, RedisSentinel, Topology } from './types.js';

/** Defaults of {@link ConnectionOptions}, applied in one place. */
export const DEFAULTS = {
  connectTimeoutMs: 5_000,
  commandTimeoutMs: 5_000,
  baseDelayMs: 50,
  maxDelayMs: 2_000,
  isolationPoolSize: 8,
  blockingPoolSize: 32,
  sockets: 2,
};

/** What kind of node-redis object a client passed in is. */
export function detectTopology(raw: object): Topology {
  if ('nodeClient' in raw && 'masters' in raw) return 'cluster';
  if ('getMasterNode' in raw && 'acquire' in raw) return 'sentinel';
  if ('duplicate' in raw && 'sendCommand' in raw) return 'standalone';
  throw new InvalidArgumentError('client', 'expected a node-redis 6 client, cluster or sentinel.');
}

/**
 * The options of every client this package opens to one node. `disableOfflineQueue`: while a
 * socket reconnects, node-redis would keep commands (and a MULTI) in its offline queue and write
 * them once it is back, after their callers were told they failed; with it, such a command fails at
 * once, and every command not yet written when a socket drops is rejected rather than kept.
 */
export function nodeClientOptions(parsed: ParsedRedisUrl, options: ConnectionOptions) {
  const base = options.reconnect?.baseDelayMs ?? DEFAULTS.baseDelayMs;
  const max = options.reconnect?.maxDelayMs ?? DEFAULTS.maxDelayMs;
  return {
    ...(parsed.username !== undefined ? { username: parsed.username } : {}),
    ...(parsed.password !== undefined ? { password: parsed.password } : {}),
    disableOfflineQueue: true,
    // The connection's bounded wait replaces node-redis's per-command timer (see DeadlineSweeper).
    commandOptions: { timeout: 0 },
    socket: {
      connectTimeout: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      // Exponential backoff with "equal jitter": never gives up, never stampedes a recovering server.
      reconnectStrategy: (retries: number) => {
        const delay = Math.min(max, base * 2 ** Math.min(retries, 20));
        return Math.round(delay / 2 + (Math.random() * delay) / 2);
      },
      ...(parsed.tls || options.tls !== undefined ? { tls: true as const, ...options.tls } : {}),
    },
  };
}

/** Creates (does not connect) the node-redis object for a parsed URL. */
export function createRaw(
  parsed: ParsedRedisUrl,
  options: ConnectionOptions,
): RedisClient | RedisCluster | RedisSentinel {
  const { commandOptions, socket, ...node } = nodeClientOptions(parsed, options);
  const first = parsed.hosts[0] ?? { host: '127.0.0.1', port: 6379 };
  const database = parsed.database !== undefined ? { database: parsed.database } : {};
  if (parsed.topology === 'cluster') {
    return createCluster({
      rootNodes: parsed.hosts.map((h) => ({ socket: { host: h.host, port: h.port } })),
      defaults: { ...node, socket },
      commandOptions,
    }) as unknown as RedisCluster;
  }
  if (parsed.topology === 'sentinel') {
    return createSentinel({
      name: parsed.sentinelMaster ?? 'mymaster',
      sentinelRootNodes: parsed.hosts,
      // Ordinary commands only: isolated and blocking connections are clients of our own.
      masterPoolSize: 1,
      nodeClientOptions: { ...node, socket, ...database },
      commandOptions,
    }) as unknown as RedisSentinel;
  }
  return createClient({
    ...node,
    socket: { ...socket, host: first.host, port: first.port },
    ...database,
    commandOptions,
  }) as unknown as RedisClient;
}

/** Makes plain clients to a Sentinel's master (for dedicated connections), with the node options. */
export function sentinelNodeClient(
  parsed: ParsedRedisUrl,
  options: ConnectionOptions,
): (host: string, port: number) => RedisClient {
  const { socket, ...node } = nodeClientOptions(parsed, options);
  const database = parsed.database === undefined ? {} : { database: parsed.database };
  return (host, port) =>
    createClient({ ...node, ...database, socket: { ...socket, host, port } }) as RedisClient;
}

/**
 * Connects a client made by `make` for a dedicated use (WATCH, blocking commands, pub/sub), or
 * rejects with {@link ConnectionError} after `connectTimeoutMs`: connect() keeps retrying while
 * Redis is down, and a caller waiting for a dedicated connection must not wait for the whole outage.
 */
export async function openClient(
  make: () => RedisClient,
  onError: (err: Error) => void,
  connectTimeoutMs: number,
): Promise<RedisClient> {
  const client = make();
  let lastError: Error | undefined;
  client.on('error', (err: Error) => {
    lastError = err;
    onError(err);
  });
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      forceDestroy(client);
      reject(
        new ConnectionError(
          `Could not open a dedicated connection within ${connectTimeoutMs} ms${lastError ? ` (${lastError.message})` : ''}.`,
          { cause: lastError },
        ),
      );
    }, connectTimeoutMs);
  });
  try {
    await Promise.race([client.connect(), expired]);
  } catch (err) {
    forceDestroy(client);
    throw toPatternsError(err, 'opening a dedicated connection');
  } finally {
    clearTimeout(timer);
  }
  return client;
}

/** Resolves once `isReady()` holds, polling every 5 ms; `cancel` stops the polling. */
export function waitReady(isReady: () => boolean): { promise: Promise<void>; cancel(): void } {
  let check: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    if (isReady()) return resolve();
    check = setInterval(() => {
      if (!isReady()) return;
      clearInterval(check);
      resolve();
    }, 5);
    check.unref();
  });
  return { promise, cancel: () => clearInterval(check) };
}

/** Destroys a client whatever its state, ignoring "already destroyed". */
export function forceDestroy(raw: { destroy(): unknown }): void {
  try {
    const result = raw.destroy();
    if (result instanceof Promise) result.catch(() => {});
  } catch {
    // already destroyed
  }
}

/**
 * Calls `listener` once `client` is closed for good (`close()`, `destroy()`, `quit()`: a Cluster
 * says so with 'disconnect', a client or a Sentinel with 'end'; neither fires on a reconnect).
 * Returns a function that stops listening.
 */
export function onceClosed(
  client: RedisClient | RedisCluster | RedisSentinel,
  topology: Topology,
  listener: () => void,
): () => void {
  const emitter = client as unknown as {
    once(event: string, listener: () => void): unknown;
    off(event: string, listener: () => void): unknown;
  };
  const event = topology === 'cluster' ? 'disconnect' : 'end';
  emitter.once(event, listener);
  return () => emitter.off(event, listener);
}

/**
 * Closes `sockets`, letting in-flight replies arrive, but destroys them after `waitMs`: a dead or
 * paused server cannot hold a shutdown hostage.
 */
export async function closeWithin(
  sockets: ReadonlyArray<{ close(): Promise<unknown>; destroy(): unknown }>,
  waitMs: number,
): Promise<void> {
  const drained = Promise.allSettled(sockets.map((each) => each.close())).then(() => true);
  const timer = new Promise<false>((resolve) => setTimeout(resolve, waitMs, false).unref());
  if (!(await Promise.race([drained, timer]))) for (const each of sockets) forceDestroy(each);
}
