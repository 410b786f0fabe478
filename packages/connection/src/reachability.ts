import type { CommandDeadline } from './deadline.js';
import { ConnectionError, TimeoutError } from './errors.js';
import { slotOf } from './keys.js';
import type { RedisClient, RedisCluster, RedisSentinel, Topology } from './types.js';

/** A Cluster master as node-redis's slot map knows it. */
type ClusterMaster = RedisCluster['slots'][number]['master'];

/**
 * Whether a command can be sent now, and the errors that say why not. node-redis would hold a
 * command for a socket that is down in a queue and write it once the socket is back, after its
 * caller was told it failed; so a command for a node known to be down fails at once. On Cluster the
 * client stays ready while one master is down, so the slot's own master is checked.
 */
export class Reachability {
  readonly #raw: RedisClient | RedisCluster | RedisSentinel;
  readonly #topology: Topology;
  readonly #lastError: () => Error | undefined;

  constructor(
    raw: RedisClient | RedisCluster | RedisSentinel,
    topology: Topology,
    lastError: () => Error | undefined,
  ) {
    this.#raw = raw;
    this.#topology = topology;
    this.#lastError = lastError;
  }

  /** The master owning `key`'s slot (Cluster only). */
  masterOf(key: string): ClusterMaster | undefined {
    return (this.#raw as RedisCluster).slots[slotOf(key)]?.master;
  }

  /** Why a command on `key` (or on `client`, when given) cannot be sent now, or undefined. */
  unreachable(key: string | undefined, what: string, client?: RedisClient): ConnectionError | undefined {
    if (!this.#raw.isOpen) return undefined; // node-redis says ClientClosedError
    if (client !== undefined ? !client.isReady : !this.#raw.isReady) return this.notSent(what);
    if (this.#topology !== 'cluster' || key === undefined || client !== undefined) return undefined;
    const master = this.masterOf(key);
    if (master?.client === undefined || master.client.isReady) return undefined;
    return this.notSent(what, key);
  }

  notSent(what: string, key?: string): ConnectionError {
    return new ConnectionError(
      `${what} was not sent: ${this.#where(key)} is unreachable${this.#cause()} and the connection is retrying.`,
      { cause: this.#lastError() },
    );
  }

  /** A command that expires while its node is down is a connection problem, not a slow server. */
  expired(deadline: CommandDeadline): Error {
    const { what, timeoutMs, key } = deadline;
    if (this.unreachable(key, what) === undefined)
      return new TimeoutError(
        `${what} got no reply within ${timeoutMs} ms; Redis is slow or paused. If Redis received it, it may still apply. Raise commandTimeoutMs if the command is legitimately slow.`,
        timeoutMs,
      );
    return new ConnectionError(
      `${what} did not complete within ${timeoutMs} ms: ${this.#where(key)} is unreachable${this.#cause()}. Check the URL, credentials and that Redis is running; the connection keeps retrying.`,
      { cause: this.#lastError() },
    );
  }

  #where(key: string | undefined): string {
    if (this.#topology !== 'cluster' || key === undefined) return 'Redis';
    const master = this.masterOf(key);
    return master === undefined
      ? `the Cluster node owning the slot of "${key}"`
      : `the Cluster node ${master.host}:${master.port} owning the slot of "${key}"`;
  }

  #cause(): string {
    const last = this.#lastError();
    return last ? ` (${last.message})` : '';
  }
}
