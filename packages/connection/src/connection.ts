import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import {
  createClient,
  createCluster,
  createSentinel,
  type RedisArgument,
  type RedisClientType,
  type RedisClusterType,
  type RedisSentinelType,
} from 'redis';
import { DeadlineSweeper } from './deadline.js';
import {
  ClosedError,
  ConnectionError,
  InvalidArgumentError,
  TimeoutError,
  toPatternsError,
} from './errors.js';
import { slotOf, tagHash, tagOf } from './keys.js';
import { checkDuration, checkInteger, type ParsedRedisUrl, parseRedisUrl } from './options.js';
import { NodePool } from './pool.js';
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
  /** Iterates every key matching `pattern` on every master; use {@link escapeGlob} on user parts. */
  scan(pattern: string, options?: { count?: number; type?: string }): AsyncIterableIterator<string>;
  /** Round-trip time of a PING in milliseconds. */
  ping(): Promise<number>;
  /** Lets in-flight commands finish (bounded by `commandTimeoutMs`), then closes what this connection opened. */
  close(): Promise<void>;
}

const DEFAULTS = {
  connectTimeoutMs: 5_000,
  commandTimeoutMs: 5_000,
  baseDelayMs: 50,
  maxDelayMs: 2_000,
  isolationPoolSize: 8,
  blockingPoolSize: 32,
  sockets: 2,
};

const connections = new WeakMap<object, RedisConnection>();
/** For {@link connect}: whether every socket is ready, and destroying the sockets it opened. */
const internals = new WeakMap<RedisConnection, { allReady(): boolean; destroyOwned(): void }>();

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
export async function connect(options: ConnectionOptions = {}): Promise<RedisConnection> {
  const conn = createConnection(options);
  const internal = internals.get(conn) as { allReady(): boolean; destroyOwned(): void };
  const ready = waitReady(internal.allReady);
  try {
    // While the socket is down an expiring wait is reported as a ConnectionError naming the last
    // socket or auth error (see `expired` below); a TimeoutError means connected but not ready.
    await conn.bounded(ready.promise, options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs, 'connect');
  } catch (err) {
    ready.cancel();
    // A client the caller passed in stays theirs: never destroyed here.
    internal.destroyOwned();
    await conn.close().catch(() => {});
    throw err instanceof TimeoutError
      ? new ConnectionError(`Redis did not become ready within ${err.timeoutMs} ms.`, { cause: err })
      : err;
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
  if (existing !== undefined) return existing;
  const conn = createConnection({ client: redis });
  connections.set(redis, conn);
  return conn;
}

function isConnection(value: object): value is RedisConnection {
  return 'isolated' in value && 'bounded' in value && 'topology' in value;
}

function createConnection(options: ConnectionOptions): RedisConnection {
  checkDuration('connectTimeoutMs', options.connectTimeoutMs);
  checkDuration('commandTimeoutMs', options.commandTimeoutMs, { allowZero: true });
  checkDuration('reconnect.baseDelayMs', options.reconnect?.baseDelayMs);
  checkDuration('reconnect.maxDelayMs', options.reconnect?.maxDelayMs);
  checkInteger('sockets', options.sockets, 1);
  checkInteger('isolationPoolSize', options.isolationPoolSize, 1);
  checkInteger('blockingPoolSize', options.blockingPoolSize, 1);
  checkInteger('database', options.database, 0);
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
  const onError = options.onError ?? (() => {});
  const owned = options.client === undefined;
  let raw: RedisClient | RedisCluster | RedisSentinel;
  let topology: Topology;
  // The extra sockets of a standalone server (see `sockets`); lanes[0] is raw itself.
  let lanes: RedisClient[] = [];
  if (options.client !== undefined) {
    raw = options.client;
    topology = detectTopology(raw);
  } else {
    const parsed = parseRedisUrl(options.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    if (options.username !== undefined) parsed.username = options.username;
    if (options.password !== undefined) parsed.password = options.password;
    if (options.database !== undefined) parsed.database = options.database;
    topology = parsed.topology;
    raw = createRaw(parsed, options);
    raw.on('error', onError);
    if (topology === 'standalone') {
      lanes = [raw as RedisClient];
      for (let i = 1; i < (options.sockets ?? DEFAULTS.sockets); i++) {
        const lane = createRaw(parsed, options) as RedisClient;
        lane.on('error', onError);
        lane.connect().catch(onError);
        lanes.push(lane);
      }
    }
  }
  if (!raw.isOpen) raw.connect().catch(onError);
  // Sockets and order. A write (any command not marked `readonly`) counts, per hash tag of its
  // keys, until it settles, with the socket it took; a later command on one of those tags takes
  // that socket too, so it cannot overtake the write. A tag with nothing in flight may take any
  // socket, as nothing is left to overtake: its own socket by tag hash for a plain command, the
  // batch's for a key batched with others (so a batch of many keys stays one call), any for a read.
  // Tags are counted exactly (not by a hash bucket): a collision would tie unrelated keys to a
  // socket. A command whose tags are in flight on two sockets (its keys were not grouped by
  // groupBySlot) waits until the earlier ones are answered, and later commands on its tags wait
  // for it to be sent: slower, never out of order. While the socket a tag is pinned to reconnects,
  // commands on that tag fail fast (as every command does while the first socket reconnects);
  // other tags move to the first socket.
  interface InFlight {
    count: number;
    lane: number;
    /** Settles when the newest command on the tag has been answered. */
    last: Promise<unknown>;
    /** Set while the newest command on the tag waits to be sent; resolves once it is. */
    gate: Promise<void> | undefined;
  }
  const writesInFlight = new Map<string, InFlight>();
  let turn = 0;
  const tagsOf = (keys: readonly string[]): string[] => {
    const tags = new Array<string>(keys.length);
    for (let i = 0; i < keys.length; i++) tags[i] = tagOf(keys[i] as string);
    return tags;
  };
  // The writes in flight of the first of `tags` that has any.
  const firstInFlight = (tags: readonly string[]): InFlight | undefined => {
    for (const tag of tags) {
      const entry = writesInFlight.get(tag);
      if (entry !== undefined) return entry;
    }
    return undefined;
  };
  const routeOfKeys = (keys: readonly string[], tags = tagsOf(keys)): number => {
    const entry = firstInFlight(tags);
    if (entry !== undefined) return entry.lane;
    return keys.length === 0 ? 0 : tagHash(keys[0] as string) % lanes.length;
  };
  const laneDown = (lane: number) =>
    new ConnectionError(
      `The command was not sent: socket ${lane} to Redis, which holds earlier commands on one of its keys, is reconnecting${lastError ? ` (${lastError.message})` : ''}.`,
      { cause: lastError },
    );
  // Sends and counts a write under its tags (a tag twice counts twice) until it settles.
  const counted = <T>(
    tags: readonly string[],
    lane: number,
    send: (client: RedisClient) => Promise<T>,
  ): Promise<T> => {
    let pinned = false;
    let conflict = false;
    for (const tag of tags) {
      const entry = writesInFlight.get(tag);
      if (entry === undefined) continue;
      pinned = true;
      if (entry.lane !== lane || entry.gate !== undefined) conflict = true;
    }
    let used = lane;
    if (!(lanes[lane] as RedisClient).isReady) {
      if (pinned) return Promise.reject(laneDown(lane));
      used = 0;
    }
    let command: Promise<T>;
    let gate: Promise<void> | undefined;
    if (!conflict) command = send(lanes[used] as RedisClient);
    else {
      // Everything earlier on these tags first: answered on other sockets, sent on this one.
      const earlier: Array<Promise<unknown>> = [];
      for (const tag of tags) {
        const entry = writesInFlight.get(tag);
        if (entry === undefined) continue;
        earlier.push(entry.lane === used ? (entry.gate ?? Promise.resolve()) : entry.last);
      }
      let open: () => void = () => {};
      gate = new Promise<void>((resolve) => (open = resolve));
      command = Promise.allSettled(earlier).then(() => {
        try {
          return (lanes[used] as RedisClient).isReady
            ? send(lanes[used] as RedisClient)
            : Promise.reject(laneDown(used));
        } finally {
          open();
        }
      });
    }
    const settled = command.then(
      () => {},
      () => {},
    );
    for (const tag of tags) {
      const entry = writesInFlight.get(tag);
      if (entry === undefined) writesInFlight.set(tag, { count: 1, lane: used, last: settled, gate });
      else {
        entry.count++;
        entry.lane = used;
        entry.last = settled;
        entry.gate = gate;
      }
    }
    if (gate !== undefined) {
      const sent = gate;
      gate.then(() => {
        for (const tag of tags) {
          const entry = writesInFlight.get(tag);
          if (entry !== undefined && entry.gate === sent) entry.gate = undefined;
        }
      });
    }
    settled.then(() => {
      for (const tag of tags) {
        const entry = writesInFlight.get(tag) as InFlight;
        if (--entry.count === 0) writesInFlight.delete(tag);
      }
    });
    return command;
  };
  const onLane = <T>(
    keys: readonly string[],
    readonly: boolean,
    send: (lane: RedisClient) => Promise<T>,
  ): Promise<T> => {
    const tags = tagsOf(keys);
    if (readonly) {
      // A read of a tag with writes in flight goes after them (behind a waiting one, once it is sent).
      const entry = firstInFlight(tags);
      if (entry === undefined) {
        const client = lanes[turn++ % lanes.length] as RedisClient;
        return send(client.isReady ? client : (raw as RedisClient));
      }
      const { lane, gate } = entry;
      const go = () =>
        (lanes[lane] as RedisClient).isReady
          ? send(lanes[lane] as RedisClient)
          : Promise.reject(laneDown(lane));
      return gate === undefined ? go() : gate.then(go);
    }
    return counted(tags, routeOfKeys(keys, tags), send);
  };

  let lastError: Error | undefined;
  raw.on('error', (err: Error) => {
    lastError = err;
  });
  // A command that expires while the socket is down is a connection problem, not a slow server.
  const expired = (what: string, timeoutMs: number): Error =>
    raw.isReady
      ? new TimeoutError(
          `${what} got no reply within ${timeoutMs} ms; Redis is slow or paused. Raise commandTimeoutMs if the command is legitimately slow.`,
          timeoutMs,
        )
      : new ConnectionError(
          `${what} did not complete within ${timeoutMs} ms: Redis is unreachable${lastError ? ` (${lastError.message})` : ''}. Check the URL, credentials and that Redis is running; the connection keeps retrying.`,
          { cause: lastError },
        );
  // A tenth of the bound as a power of two, 1-64 ms: one sweeper per precision in use, so a
  // per-call timeout much shorter than the default (a rate limiter's 500 ms) is not 100 ms late.
  const tickFor = (timeoutMs: number) => 2 ** Math.min(6, Math.max(0, Math.floor(Math.log2(timeoutMs / 10))));
  const sweepers = new Map<number, DeadlineSweeper>();
  // By timeout too, so a per-call timeout costs a map lookup, not the tick arithmetic, per command.
  const byTimeout = new Map<number, DeadlineSweeper>();
  const sweeperFor = (timeoutMs: number): DeadlineSweeper => {
    const known = byTimeout.get(timeoutMs);
    if (known !== undefined) return known;
    const tick = tickFor(timeoutMs);
    let found = sweepers.get(tick);
    if (found === undefined) {
      found = new DeadlineSweeper(tick, expired);
      sweepers.set(tick, found);
    }
    if (byTimeout.size < 64) byTimeout.set(timeoutMs, found);
    return found;
  };
  const sweeper = sweeperFor(commandTimeoutMs || 1000);
  const isolationPools = new Map<string, NodePool<RedisClient>>();
  const blockingPools = new Map<string, NodePool<RedisClient>>();
  let closed = false;
  const client = raw as RedisClient;

  const bounded = <T>(
    command: Promise<T>,
    timeoutMs = commandTimeoutMs,
    what = 'Redis command',
  ): Promise<T> => {
    if (closed) {
      command.catch(() => {});
      return Promise.reject(new ClosedError());
    }
    if (timeoutMs === 0) return command.catch((err: unknown) => Promise.reject(toPatternsError(err, what)));
    return (timeoutMs === commandTimeoutMs ? sweeper : sweeperFor(timeoutMs)).track(command, timeoutMs, what);
  };

  const sendRaw = (
    args: RedisArgument[],
    key: string | undefined,
    readonly: boolean,
    keys?: readonly string[],
  ): Promise<unknown> => {
    // While reconnecting, node-redis would queue the command and run it after the caller gave up
    // (a refused rate-limit call charged later, a retried increment applied twice): fail fast instead.
    if (!raw.isReady && raw.isOpen) {
      const error = new ConnectionError(
        `${String(args[0])} was not sent: Redis is unreachable${lastError ? ` (${lastError.message})` : ''} and the connection is retrying.`,
        { cause: lastError },
      );
      // Rejected on a later turn of the event loop, so a caller retrying in a tight loop cannot
      // starve the socket I/O that reconnects.
      return new Promise((_, reject) => setImmediate(reject, error));
    }
    if (topology === 'cluster') return (raw as RedisCluster).sendCommand(key, readonly, args);
    if (topology === 'sentinel') return (raw as RedisSentinel).sendCommand(readonly, args);
    if (lanes.length < 2 || key === undefined) return (raw as RedisClient).sendCommand(args);
    return onLane(keys ?? [key], readonly, (lane) => lane.sendCommand(args));
  };

  // The scripts each server was sent in full. A script's first call on a server goes as EVAL, not
  // as EVALSHA answered by NOSCRIPT and then resent: a resend would land after commands issued
  // after the call, and the first check after a deploy could overtake a reset issued before it.
  // Keyed by node-redis's node object on Cluster; one set for a single server (or Sentinel master).
  const scriptsSent = new WeakMap<object, Set<string>>();
  const server = {};
  const scriptCache = (key: string | undefined): Set<string> => {
    const node =
      (topology === 'cluster' && key !== undefined
        ? (raw as RedisCluster).slots[slotOf(key)]?.master
        : undefined) ?? server;
    let sent = scriptsSent.get(node);
    if (sent === undefined) {
      sent = new Set();
      scriptsSent.set(node, sent);
    }
    return sent;
  };

  const nodeFor = async (key: string): Promise<{ id: string; create: () => Promise<RedisClient> }> => {
    if (topology === 'cluster') {
      const cluster = raw as RedisCluster;
      const master = cluster.slots[slotOf(key)]?.master;
      if (master === undefined) throw new ConnectionError(`No Cluster master owns the slot of "${key}" yet.`);
      const nodeClient = (await cluster.nodeClient(master)) as RedisClient;
      return {
        id: `${master.host}:${master.port}`,
        create: () => openDuplicate(nodeClient, onError, connectTimeoutMs),
      };
    }
    return { id: 'standalone', create: () => openDuplicate(client, onError, connectTimeoutMs) };
  };

  const poolFor = async (pools: Map<string, NodePool<RedisClient>>, key: string, size: number) => {
    if (closed) throw new ClosedError();
    const node = await nodeFor(key);
    let pool = pools.get(node.id);
    if (pool === undefined) {
      pool = new NodePool(node.create, size, `Redis node ${node.id}`);
      pools.set(node.id, pool);
    }
    return pool;
  };

  const acquireTimeoutMs = commandTimeoutMs || DEFAULTS.commandTimeoutMs;

  /**
   * A dedicated connection to key's node: from our bounded pool, or on Sentinel a lease from the
   * sentinel client's own master pool (sized for both pools below), given back either way.
   */
  const leaseFor = async (
    pools: Map<string, NodePool<RedisClient>>,
    key: string,
    size: number,
  ): Promise<{ client: RedisClient; release(): void; discard(): void }> => {
    if (topology === 'sentinel') {
      if (closed) throw new ClosedError();
      const pending = (raw as RedisSentinel).acquire() as unknown as Promise<
        RedisClient & { release(): void }
      >;
      const leased = await bounded(
        pending,
        acquireTimeoutMs,
        'waiting for a dedicated Sentinel connection',
      ).catch((err: unknown) => {
        // Timed out: give the lease back whenever it arrives, so the sentinel pool does not shrink.
        pending.then(
          (late) => late.release(),
          () => {},
        );
        throw err;
      });
      return { client: leased, release: () => leased.release(), discard: () => leased.release() };
    }
    const pool = await poolFor(pools, key, size);
    const client = await pool.acquire(acquireTimeoutMs);
    return { client, release: () => pool.release(client), discard: () => pool.discard(client) };
  };

  const conn: RedisConnection = {
    topology,
    client,
    commandTimeoutMs,
    get isReady() {
      return !closed && raw.isReady;
    },
    bounded,
    send<T>(args: RedisArgument[], opts: CommandOptions = {}) {
      checkDuration('timeoutMs', opts.timeoutMs, { allowZero: true });
      return bounded(
        sendRaw(args, opts.key ?? opts.keys?.[0], opts.readonly ?? false, opts.keys),
        opts.timeoutMs,
        String(args[0]),
      ) as Promise<T>;
    },
    runScript<T>(script: Script, keys: string[], args: RedisArgument[], opts: CommandOptions = {}) {
      checkDuration('timeoutMs', opts.timeoutMs, { allowZero: true });
      return bounded(
        evalScript(script, keys, args, scriptCache(keys[0]), (cmd) =>
          sendRaw(cmd, keys[0], opts.readonly ?? false, keys),
        ),
        opts.timeoutMs,
        `script ${script.name}`,
      ) as Promise<T>;
    },
    multi(key: string, keys?: readonly string[]) {
      if (topology === 'cluster')
        return (raw as RedisCluster).multi(key) as unknown as ReturnType<RedisClient['multi']>;
      if (topology !== 'standalone' || lanes.length < 2) return (raw as RedisClient).multi();
      // The transaction is queued on the socket chosen at EXEC (see the TSDoc: build and EXEC it
      // in one synchronous step, so nothing changes that choice in between).
      const all = tagsOf(keys ?? [key]);
      const lane = routeOfKeys(keys ?? [key], all);
      const client = lanes[lane] as RedisClient;
      const multi = (client.isReady ? client : (raw as RedisClient)).multi();
      const exec = multi.exec.bind(multi);
      multi.exec = ((...args: Parameters<typeof exec>) =>
        counted(all, client.isReady ? lane : 0, () => exec(...args))) as typeof exec;
      return multi;
    },
    async isolated<T>(key: string, fn: (c: RedisClient) => Promise<T>): Promise<T> {
      const lease = await leaseFor(
        isolationPools,
        key,
        options.isolationPoolSize ?? DEFAULTS.isolationPoolSize,
      );
      const isolatedClient = lease.client;
      let healthy = true;
      try {
        return await fn(isolatedClient);
      } catch (err) {
        healthy = !(
          err instanceof TimeoutError ||
          err instanceof ConnectionError ||
          err instanceof ClosedError
        );
        throw err;
      } finally {
        if (healthy) await clearWatch(isolatedClient, bounded).catch(() => (healthy = false));
        if (healthy) lease.release();
        else lease.discard();
      }
    },
    async dedicated(key: string): Promise<DedicatedConnection> {
      const lease = await leaseFor(blockingPools, key, options.blockingPoolSize ?? DEFAULTS.blockingPoolSize);
      let done = false;
      const release = () => {
        if (done) return;
        done = true;
        lease.release();
      };
      const destroy = () => {
        if (done) return;
        done = true;
        lease.discard();
      };
      return { client: lease.client, release, destroy, [Symbol.asyncDispose]: async () => release() };
    },
    groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
      if (items.length === 0) return [];
      if (topology !== 'cluster' && lanes.length < 2) return [[...items]];
      const groups = new Map<number, T[]>();
      const free: T[] = [];
      for (const item of items) {
        const key = keyOf(item);
        const at = topology === 'cluster' ? slotOf(key) : (writesInFlight.get(tagOf(key))?.lane ?? -1);
        if (at < 0) {
          free.push(item);
          continue;
        }
        const group = groups.get(at);
        if (group === undefined) groups.set(at, [item]);
        else group.push(item);
      }
      // Keys with nothing in flight go with the first group, after its keys that decide its socket.
      const all = [...groups.values()];
      if (free.length > 0) {
        if (all.length === 0) all.push(free);
        else (all[0] as T[]).push(...free);
      }
      return all;
    },
    async *scan(pattern: string, opts: { count?: number; type?: string } = {}) {
      const scanOptions = {
        MATCH: pattern,
        COUNT: opts.count ?? 1000,
        ...(opts.type ? { TYPE: opts.type } : {}),
      };
      for (const node of await scanTargets()) {
        let cursor = '0';
        do {
          const reply = await bounded(node.scan(cursor, scanOptions), commandTimeoutMs, 'SCAN');
          cursor = String(reply.cursor);
          for (const key of reply.keys) yield String(key);
        } while (cursor !== '0');
      }
    },
    async ping() {
      const started = performance.now();
      await conn.send(['PING']);
      return performance.now() - started;
    },
    async close() {
      if (closed) return;
      closed = true;
      const pools = [...isolationPools.values(), ...blockingPools.values()];
      await Promise.allSettled(pools.map((p) => p.close()));
      if (owned) {
        // close() waits for in-flight replies; bound it so a dead server cannot hold shutdown hostage.
        const all = lanes.length > 0 ? lanes : [raw];
        const drained = Promise.allSettled(all.map((each) => each.close())).then(() => true);
        const timer = new Promise<false>((r) => setTimeout(r, acquireTimeoutMs, false).unref());
        if (!(await Promise.race([drained, timer]))) for (const each of all) forceDestroy(each);
      }
      for (const each of sweepers.values()) {
        each.rejectAll(() => new ClosedError());
        each.stop();
      }
    },
    [Symbol.asyncDispose]() {
      return conn.close();
    },
  };

  const scanTargets = async (): Promise<RedisClient[]> => {
    if (topology === 'cluster') {
      const cluster = raw as RedisCluster;
      return Promise.all(cluster.masters.map((m) => cluster.nodeClient(m) as Promise<RedisClient>));
    }
    return [client];
  };

  internals.set(conn, {
    allReady: () => raw.isReady && lanes.every((lane) => lane.isReady),
    destroyOwned: () => {
      if (owned) for (const each of lanes.length > 0 ? lanes : [raw]) forceDestroy(each);
    },
  });
  return conn;
}

function detectTopology(raw: object): Topology {
  if ('nodeClient' in raw && 'masters' in raw) return 'cluster';
  if ('getMasterNode' in raw && 'acquire' in raw) return 'sentinel';
  if ('duplicate' in raw && 'sendCommand' in raw) return 'standalone';
  throw new InvalidArgumentError('client', 'expected a node-redis 6 client, cluster or sentinel.');
}

function createRaw(
  parsed: ParsedRedisUrl,
  options: ConnectionOptions,
): RedisClient | RedisCluster | RedisSentinel {
  const base = options.reconnect?.baseDelayMs ?? DEFAULTS.baseDelayMs;
  const max = options.reconnect?.maxDelayMs ?? DEFAULTS.maxDelayMs;
  const socket = {
    connectTimeout: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    // Exponential backoff with "equal jitter": never gives up, never stampedes a recovering server.
    reconnectStrategy: (retries: number) => {
      const delay = Math.min(max, base * 2 ** Math.min(retries, 20));
      return Math.round(delay / 2 + (Math.random() * delay) / 2);
    },
    ...(parsed.tls || options.tls !== undefined ? { tls: true as const, ...options.tls } : {}),
  };
  const auth = {
    ...(parsed.username !== undefined ? { username: parsed.username } : {}),
    ...(parsed.password !== undefined ? { password: parsed.password } : {}),
  };
  // The bounded wait above replaces node-redis's per-command timer (see DeadlineSweeper).
  const commandOptions = { timeout: 0 };
  const first = parsed.hosts[0] ?? { host: '127.0.0.1', port: 6379 };
  if (parsed.topology === 'cluster') {
    return createCluster({
      rootNodes: parsed.hosts.map((h) => ({ socket: { host: h.host, port: h.port } })),
      defaults: { ...auth, socket },
      commandOptions,
    }) as unknown as RedisCluster;
  }
  if (parsed.topology === 'sentinel') {
    return createSentinel({
      name: parsed.sentinelMaster ?? 'mymaster',
      sentinelRootNodes: parsed.hosts,
      // One shared client for ordinary commands plus every isolated and blocking lease.
      masterPoolSize:
        1 +
        (options.isolationPoolSize ?? DEFAULTS.isolationPoolSize) +
        (options.blockingPoolSize ?? DEFAULTS.blockingPoolSize),
      nodeClientOptions: {
        ...auth,
        socket,
        ...(parsed.database !== undefined ? { database: parsed.database } : {}),
      },
      commandOptions,
    }) as unknown as RedisSentinel;
  }
  return createClient({
    ...auth,
    socket: { ...socket, host: first.host, port: first.port },
    ...(parsed.database !== undefined ? { database: parsed.database } : {}),
    commandOptions,
  }) as unknown as RedisClient;
}

async function openDuplicate(
  source: RedisClient,
  onError: (err: Error) => void,
  connectTimeoutMs: number,
): Promise<RedisClient> {
  const duplicate = source.duplicate() as RedisClient;
  let lastError: Error | undefined;
  duplicate.on('error', (err: Error) => {
    lastError = err;
    onError(err);
  });
  // connect() keeps retrying while Redis is down; a caller waiting for a dedicated connection must
  // not wait for the whole outage.
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      forceDestroy(duplicate);
      reject(
        new ConnectionError(
          `Could not open a dedicated connection within ${connectTimeoutMs} ms${lastError ? ` (${lastError.message})` : ''}.`,
          { cause: lastError },
        ),
      );
    }, connectTimeoutMs);
  });
  try {
    await Promise.race([duplicate.connect(), expired]);
  } catch (err) {
    forceDestroy(duplicate);
    throw toPatternsError(err, 'opening a dedicated connection');
  } finally {
    clearTimeout(timer);
  }
  return duplicate;
}

async function clearWatch(client: RedisClient, bounded: RedisConnection['bounded']): Promise<void> {
  // A Sentinel lease does not say whether it watches: clear it unconditionally there.
  if (client.isWatching !== false || client.isDirtyWatch)
    await bounded(client.unwatch(), undefined, 'UNWATCH');
}

function waitReady(isReady: () => boolean): {
  promise: Promise<void>;
  cancel(): void;
} {
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

function forceDestroy(raw: { destroy(): unknown }): void {
  try {
    const result = raw.destroy();
    if (result instanceof Promise) result.catch(() => {});
  } catch {
    // already destroyed
  }
}

async function evalScript(
  script: Script,
  keys: string[],
  args: RedisArgument[],
  sentToServer: Set<string>,
  send: (args: RedisArgument[]) => Promise<unknown>,
): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args];
  if (!sentToServer.has(script.sha1)) {
    const reply = await send(['EVAL', script.source, ...tail]);
    sentToServer.add(script.sha1);
    return reply;
  }
  try {
    return await send(['EVALSHA', script.sha1, ...tail]);
  } catch (err) {
    // NOSCRIPT after a SCRIPT FLUSH, a restart or a failover: send the body once; Redis caches it again.
    if (err instanceof Error && err.message.startsWith('NOSCRIPT'))
      return send(['EVAL', script.source, ...tail]);
    throw err;
  }
}
