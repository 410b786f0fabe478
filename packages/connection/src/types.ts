import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { RedisArgument, RedisClientType, RedisClusterType, RedisSentinelType } from 'redis';
import type { Script } from './scripts.js';

/** A node-redis 6 client (`createClient`). */
export type RedisClient = RedisClientType<any, any, any, any, any>;
/** A node-redis 6 cluster (`createCluster`). */
export type RedisCluster = RedisClusterType<any, any, any, any, any>;
/** A node-redis 6 sentinel-backed client (`createSentinel`). */
export type RedisSentinel = RedisSentinelType<any, any, any, any, any>;
/** Anything the patterns accept as `redis`: a connection from this package or a node-redis object. */
export type RedisLike = RedisConnection | RedisClient | RedisCluster | RedisSentinel;

/** Options of {@link connect}. Durations are milliseconds. */
export interface ConnectionOptions {
  /** An existing node-redis client, cluster or sentinel. It is connected if needed but never closed by `close()`. */
  client?: RedisClient | RedisCluster | RedisSentinel;
  /**
   * `redis://[user:password@]host[:port][/db]`, `rediss://` for TLS; several hosts with
   * `?cluster=true` or `?sentinelMaster=NAME`.
   * @default process.env.REDIS_URL, else 'redis://127.0.0.1:6379'
   */
  url?: string;
  /** ACL user; overrides the URL's. */
  username?: string;
  /** Password; overrides the URL's. */
  password?: string;
  /**
   * TLS options (CA, client certificate, servername) for `rediss://` URLs; implies TLS when given.
   * @default system CAs, full verification
   */
  tls?: Pick<
    TlsConnectionOptions,
    'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized' | 'checkServerIdentity'
  >;
  /** Database number (standalone and Sentinel only). @default 0 */
  database?: number;
  /** How long `connect()` waits for the first connection. @default 5000 */
  connectTimeoutMs?: number;
  /**
   * The most any command waits for its reply, enforced by one sweep timer rather than a timer per
   * command; 0 disables the bound.
   * @default 5000
   */
  commandTimeoutMs?: number;
  /** Reconnect backoff: exponential from `baseDelayMs`, capped at `maxDelayMs`, with jitter. @default { baseDelayMs: 50, maxDelayMs: 2000 } */
  reconnect?: {
    /** First retry delay. @default 50 */
    baseDelayMs?: number;
    /** Longest delay between retries. @default 2000 */
    maxDelayMs?: number;
  };
  /**
   * Sockets for ordinary commands to a single server (not Cluster, whose masters each have their
   * own, nor Sentinel). Commands on one key (or one hash tag) keep their order, as they would on
   * Cluster: a write is counted under its tags until answered and later commands on them follow it
   * to its socket; keyless commands use the first. With one socket, Node and Redis take turns: a
   * batch of replies is handled while Redis idles, then Redis works while Node idles. Two let them
   * work at once, which at 50 commands in flight is up to twice the throughput. Ignored for a
   * `client` passed in.
   * @default 2
   */
  sockets?: number;
  /** Dedicated connections per node for {@link RedisConnection.isolated}. @default 8 */
  isolationPoolSize?: number;
  /** Dedicated connections per node for blocking commands. @default 32 */
  blockingPoolSize?: number;
  /** Called for background errors (reconnect attempts, socket errors). @default ignore: failures reach callers as typed errors */
  onError?: (err: Error) => void;
}

/** A dedicated connection leased from the blocking pool; release it when done. */
export interface DedicatedConnection extends AsyncDisposable {
  /** The leased node-redis client; use it only until `release()`. */
  readonly client: RedisClient;
  /** Returns the connection for reuse. */
  release(): void;
  /** Closes the connection (use when its state is unknown, e.g. after a timeout). */
  destroy(): void;
}

/** Options of a single command. */
export interface CommandOptions {
  /** Routes the command to the node owning this key on Cluster. */
  key?: string;
  /**
   * The command only reads. It may run on a replica where replicas are in use, and with several
   * `sockets` to one server it may take any of them while no write to its key's hash tag is in
   * flight (so it never overtakes a write issued before it, but may see one issued after it and not
   * yet awaited).
   * @default false
   */
  readonly?: boolean;
  /** Overrides the connection's `commandTimeoutMs` for this command; 0 for no bound. */
  timeoutMs?: number;
  /**
   * Every key of a multi-key command (MGET, DEL), so the command keeps its order with each key's
   * other commands, not only the first key's (scripts pass their keys anyway). Keys from one
   * {@link RedisConnection.groupBySlot} group, sent right away, go out at once; others may have to
   * wait for earlier commands on another socket to be answered.
   * @default [key]
   */
  keys?: readonly string[];
}

/** The kind of deployment behind a connection. */
export type Topology = 'standalone' | 'cluster' | 'sentinel';

/**
 * One Redis, whatever its topology. Patterns talk to Redis only through this object, so the same
 * pattern code runs on a single server, a Cluster or behind Sentinel.
 */
export interface RedisConnection extends AsyncDisposable {
  /** What is behind the connection; patterns never need to branch on it. */
  readonly topology: Topology;
  /**
   * The underlying node-redis object (a client, cluster or sentinel) for typed key commands.
   * Wrap its promises in {@link RedisConnection.bounded} to get the bounded wait.
   */
  readonly client: RedisClient;
  /** The default bound of every command, in milliseconds (0: unbounded). */
  readonly commandTimeoutMs: number;
  /** True while commands can be sent without waiting for a reconnect. */
  readonly isReady: boolean;
  /** Applies the connection's bounded wait (or `timeoutMs`) and typed errors to a command promise. */
  bounded<T>(command: Promise<T>, timeoutMs?: number, what?: string): Promise<T>;
  /** Sends a raw command, e.g. `send(['GET', key], { key })`, bounded and routed by key. */
  send<T = unknown>(args: RedisArgument[], options?: CommandOptions): Promise<T>;
  /** Runs a script by EVALSHA (EVAL on NOSCRIPT), routed by its first key on Cluster. */
  runScript<T = unknown>(
    script: Script,
    keys: string[],
    args: RedisArgument[],
    options?: CommandOptions,
  ): Promise<T>;
  /**
   * A MULTI (no WATCH) routed by `key`; all its keys must share that key's slot. Pass them all as
   * `keys` when they have different hash tags, so the transaction keeps its order with each one's
   * other commands. Build it and call `exec()` in one synchronous step: the socket is chosen when it
   * is made (`execAsPipeline()` is not ordered).
   */
  multi(key: string, keys?: readonly string[]): ReturnType<RedisClient['multi']>;
  /**
   * Runs `fn` on a dedicated pooled connection to the node that owns `key`, for WATCH/MULTI/EXEC.
   * A WATCH left open is cleared before the connection is reused; a connection that failed or
   * timed out is discarded.
   */
  isolated<T>(key: string, fn: (client: RedisClient) => Promise<T>): Promise<T>;
  /** Leases a dedicated connection to the node that owns `key`, for blocking commands (BLMOVE, BZPOPMIN). */
  dedicated(key: string): Promise<DedicatedConnection>;
  /**
   * Splits items into groups whose keys may share one multi-key command (MGET, DEL, a script):
   * one group per hash slot on Cluster. On a single server with several sockets, a hash tag with
   * commands in flight must stay on their socket: one group per such socket, the other keys with
   * the first group. Send each group's command right away (before grouping again); a group may be
   * split into several commands if no hash tag is in two of them. Then no command overtakes one
   * issued before it on any of its keys. Empty input, no groups.
   */
  groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): T[][];
  /** Iterates every key matching `pattern` on every master; pass user parts through `escapeGlob()`. */
  scan(pattern: string, options?: { count?: number; type?: string }): AsyncIterableIterator<string>;
  /** Round-trip time of a PING in milliseconds. */
  ping(): Promise<number>;
  /** Lets in-flight commands finish (bounded by `commandTimeoutMs`), then closes what this connection opened. */
  close(): Promise<void>;
}
