import type { RedisArgument } from 'redis';
import {
  closeWithin,
  createRaw,
  DEFAULTS,
  detectTopology,
  forceDestroy,
  onceClosed,
  sentinelNodeClient,
} from './clients.js';
import { type CommandDeadline, Deadlines } from './deadline.js';
import { ClosedError, TimeoutError, toPatternsError } from './errors.js';
import { groupKeys, Lanes } from './lanes.js';
import { Leases } from './leases.js';
import { checkCommandOptions, checkConnectionOptions, checkOptions, parseRedisUrl } from './options.js';
import { Reachability } from './reachability.js';
import { type Script, ScriptCache } from './scripts.js';
import type {
  CommandOptions,
  ConnectionOptions,
  DedicatedConnection,
  RedisClient,
  RedisCluster,
  RedisConnection,
  RedisSentinel,
  Topology,
} from './types.js';

/** node-redis's options of a send without a deadline signal (an empty object: faster than none). */
const SEND_OPTIONS = {};

/**
 * The failure contract lives here. Every command is bounded from the call (one sweep per tick size,
 * no timer per command). Once a caller has been told a command failed, it is never sent later: the
 * sends this class defers check the deadline, and where node-redis itself may hold or resend a
 * command the deadline goes to it as the command's `abortSignal` (see CommandDeadline). A command
 * whose node is known to be down fails at once instead of waiting in a queue.
 */
export class Connection implements RedisConnection {
  readonly topology: Topology;
  readonly client: RedisClient;
  readonly commandTimeoutMs: number;
  readonly #raw: RedisClient | RedisCluster | RedisSentinel;
  readonly #owned: boolean;
  /**
   * Whether commands carry their deadline to node-redis as `abortSignal` (node-redis then adds and
   * removes a listener per command, which costs CPU). Needed where node-redis itself may hold or
   * resend a command after its caller gave up: a Cluster (redirects), a Sentinel (a retry after a
   * failover), a client passed in with its offline queue on. A standalone client made here has none of those: its
   * offline queue is off, and the sends this class defers check the deadline themselves.
   */
  readonly #passDeadlines: boolean;
  readonly #lanes: Lanes;
  readonly #leases: Leases;
  readonly #scripts: ScriptCache;
  readonly #deadlines: Deadlines;
  readonly #reach: Reachability;
  #lastError: Error | undefined;
  #closed = false;

  constructor(options: ConnectionOptions) {
    checkConnectionOptions(options);
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs;
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    const onError = options.onError ?? (() => {});
    this.#owned = options.client === undefined;
    let sentinelNode: ((host: string, port: number) => RedisClient) | undefined;
    // The sockets of a standalone server (see `sockets`); the first is the raw client itself.
    const laneClients: RedisClient[] = [];
    if (options.client !== undefined) {
      this.#raw = options.client;
      this.topology = detectTopology(this.#raw);
    } else {
      const parsed = parseRedisUrl(options.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
      if (options.username !== undefined) parsed.username = options.username;
      if (options.password !== undefined) parsed.password = options.password;
      if (options.database !== undefined) parsed.database = options.database;
      this.topology = parsed.topology;
      this.#raw = createRaw(parsed, options);
      this.#raw.on('error', onError);
      if (this.topology === 'sentinel') sentinelNode = sentinelNodeClient(parsed, options);
      if (this.topology === 'standalone') {
        laneClients.push(this.#raw as RedisClient);
        for (let i = 1; i < (options.sockets ?? DEFAULTS.sockets); i++) {
          const lane = createRaw(parsed, options) as RedisClient;
          lane.on('error', onError);
          lane.connect().catch(onError);
          laneClients.push(lane);
        }
      }
    }
    if (!this.#raw.isOpen) this.#raw.connect().catch(onError);
    const theirs = this.#raw as { options?: { disableOfflineQueue?: boolean } };
    this.#passDeadlines =
      this.topology !== 'standalone' || (!this.#owned && theirs.options?.disableOfflineQueue !== true);
    this.#raw.on('error', (err: Error) => {
      this.#lastError = err;
    });
    this.client = this.#raw as RedisClient;
    this.#lanes = new Lanes(laneClients, () => this.#lastError);
    this.#reach = new Reachability(this.#raw, this.topology, () => this.#lastError);
    this.#deadlines = new Deadlines(this.commandTimeoutMs, (deadline) => this.#reach.expired(deadline));
    this.#scripts = new ScriptCache((key) =>
      this.topology === 'cluster' && key !== undefined ? (this.#reach.masterOf(key) ?? this) : this,
    );
    this.#leases = new Leases({
      topology: this.topology,
      raw: this.#raw,
      bounded: (command, timeoutMs, what) => this.bounded(command, timeoutMs, what),
      isClosed: () => this.#closed,
      onError,
      connectTimeoutMs,
      acquireTimeoutMs: this.commandTimeoutMs || DEFAULTS.commandTimeoutMs,
      isolationPoolSize: options.isolationPoolSize ?? DEFAULTS.isolationPoolSize,
      blockingPoolSize: options.blockingPoolSize ?? DEFAULTS.blockingPoolSize,
      sentinelNode,
      unreachable: (key) => this.#reach.unreachable(key, 'The dedicated connection'),
    });
    // Closing a client passed in closes the dedicated connections opened for it: the script can exit.
    if (!this.#owned) onceClosed(this.#raw, this.topology, () => void this.close());
  }

  /** True once {@link close} has begun, or the client passed in was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  get isReady(): boolean {
    return !this.#closed && this.#raw.isReady;
  }

  bounded<T>(command: Promise<T>, timeoutMs = this.commandTimeoutMs, what = 'Redis command'): Promise<T> {
    if (this.#closed) {
      command.catch(() => {});
      return Promise.reject(new ClosedError());
    }
    return this.#deadlines.track(command, timeoutMs, what);
  }

  send<T>(args: RedisArgument[], opts: CommandOptions = {}): Promise<T> {
    checkCommandOptions(opts);
    const key = opts.key ?? opts.keys?.[0];
    const readonly = opts.readonly ?? false;
    return this.#guarded(opts.timeoutMs, String(args[0]), key, (deadline) =>
      this.#sendRaw(args, key, readonly, opts.keys, deadline),
    ) as Promise<T>;
  }

  runScript<T>(script: Script, keys: string[], args: RedisArgument[], opts: CommandOptions = {}): Promise<T> {
    checkCommandOptions(opts);
    const readonly = opts.readonly ?? false;
    return this.#guarded(opts.timeoutMs, `script ${script.name}`, keys[0], (deadline) =>
      this.#scripts.run(script, keys, args, (cmd) => this.#sendRaw(cmd, keys[0], readonly, keys, deadline)),
    ) as Promise<T>;
  }

  multi(key: string, keys?: readonly string[]): ReturnType<RedisClient['multi']> {
    const all = keys ?? [key];
    let target: RedisClient | undefined;
    let lane = -1;
    let multi: ReturnType<RedisClient['multi']>;
    if (this.topology === 'cluster') {
      // The slot's master itself, not the Cluster client, which would resend the transaction to
      // another node after a redirect, possibly after its caller gave up.
      target = this.#reach.masterOf(key)?.client as RedisClient | undefined;
      multi = target?.multi() ?? ((this.#raw as RedisCluster).multi(key) as unknown as typeof multi);
    } else if (this.topology === 'standalone' && this.#lanes.clients.length > 1) {
      lane = this.#lanes.laneFor(all);
      target = this.#lanes.clients[lane];
      multi = (target ?? this.client).multi();
    } else multi = (this.#raw as RedisClient).multi();
    const exec = multi.exec.bind(multi);
    multi.exec = ((...args: Parameters<typeof exec>) => {
      if (this.#closed) return Promise.reject(new ClosedError());
      // Never queued for later: node-redis would write an unready socket's MULTI once it is back.
      const down =
        lane >= 0 && target === undefined
          ? this.#reach.notSent('MULTI', key)
          : this.#reach.unreachable(key, 'MULTI', target);
      if (down !== undefined) return Promise.reject(down);
      // A socket that closes under a sent EXEC rejects with node-redis's own error: type it.
      const run = () => exec(...args).catch((err: unknown) => Promise.reject(toPatternsError(err, 'MULTI')));
      if (lane < 0) return run();
      return this.#lanes.counted(this.#lanes.tagsOf(all), lane, run);
    }) as typeof exec;
    return multi;
  }

  isolated<T>(key: string, fn: (client: RedisClient) => Promise<T>): Promise<T> {
    return this.#leases.isolated(key, fn);
  }

  dedicated(key: string): Promise<DedicatedConnection> {
    return this.#leases.dedicated(key);
  }

  groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
    return groupKeys(items, keyOf, this.topology === 'cluster', this.#lanes);
  }

  async *scan(pattern: string, options?: { count?: number; type?: string }): AsyncIterableIterator<string> {
    const opts = checkOptions('options', options, '{ count?, type? }');
    const scanOptions = {
      MATCH: pattern,
      COUNT: opts.count ?? 1000,
      ...(opts.type ? { TYPE: opts.type } : {}),
    };
    const targets =
      this.topology === 'cluster'
        ? await Promise.all(
            (this.#raw as RedisCluster).masters.map(
              (m) => (this.#raw as RedisCluster).nodeClient(m) as Promise<RedisClient>,
            ),
          )
        : [this.client];
    for (const node of targets) {
      let cursor = '0';
      do {
        const reply = await this.bounded(node.scan(cursor, scanOptions), this.commandTimeoutMs, 'SCAN');
        cursor = String(reply.cursor);
        for (const key of reply.keys) yield String(key);
      } while (cursor !== '0');
    }
  }

  async ping(): Promise<number> {
    const started = performance.now();
    await this.send(['PING']);
    return performance.now() - started;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#leases.close();
    if (this.#owned) await closeWithin(this.#sockets(), this.commandTimeoutMs || DEFAULTS.commandTimeoutMs);
    this.#deadlines.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** For `connect()`: every socket it opened is ready. */
  allReady(): boolean {
    return this.#raw.isReady && this.#lanes.clients.every((lane) => lane.isReady);
  }

  /** For `connect()`: destroys the sockets it opened (never a client passed in). */
  destroyOwned(): void {
    if (this.#owned) for (const each of this.#sockets()) forceDestroy(each);
  }

  #sockets(): Array<{ close(): Promise<unknown>; destroy(): unknown }> {
    return this.#lanes.clients.length > 0 ? [...this.#lanes.clients] : [this.#raw];
  }

  /** Runs `send` under a deadline of `timeoutMs` (the connection's default when undefined). */
  #guarded<T>(
    timeoutMs: number | undefined,
    what: string,
    key: string | undefined,
    send: (deadline: CommandDeadline | undefined) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new ClosedError());
    return this.#deadlines.run(timeoutMs, what, key, send);
  }

  #sendRaw(
    args: RedisArgument[],
    key: string | undefined,
    readonly: boolean,
    keys: readonly string[] | undefined,
    deadline: CommandDeadline | undefined,
  ): Promise<unknown> {
    // Its caller gave up already (a NOSCRIPT resend, a send deferred behind earlier commands).
    if (deadline?.aborted) return Promise.reject(this.#gaveUp(args, deadline));
    const down = this.#reach.unreachable(key, String(args[0]));
    // Rejected on a later turn of the event loop, so a caller retrying in a tight loop cannot
    // starve the socket I/O that reconnects.
    if (down !== undefined) return new Promise((_, reject) => setImmediate(reject, down));
    const options =
      deadline === undefined || !this.#passDeadlines ? SEND_OPTIONS : { abortSignal: deadline.signal };
    if (this.topology === 'cluster')
      return (this.#raw as RedisCluster).sendCommand(key, readonly, args, options);
    if (this.topology === 'sentinel')
      return (this.#raw as RedisSentinel).sendCommand(readonly, args, options);
    if (this.#lanes.clients.length < 2 || key === undefined)
      return (this.#raw as RedisClient).sendCommand(args, options);
    return this.#lanes.send(keys ?? [key], readonly, (lane) =>
      deadline?.aborted ? Promise.reject(this.#gaveUp(args, deadline)) : lane.sendCommand(args, options),
    );
  }

  #gaveUp(args: RedisArgument[], deadline: CommandDeadline): TimeoutError {
    return new TimeoutError(`${String(args[0])} was not sent: its caller gave up.`, deadline.timeoutMs);
  }
}
