import type { DedicatedConnection, RedisConnection } from '@redis-patterns/connection';
import { blockingClientId, blockingMove, leaseBlockingConnection, unblockClient } from './commands/index.js';
import type { QueueKeys } from './keys.js';

/** What the blocking fetch needs from its worker. */
export interface BlockingFetchHost {
  /** False once the worker is stopping: no new BLMOVE, and an id that arrives goes back. */
  running(): boolean;
  /** Concurrency slots not taken by a job, a claimed id or a pending BLMOVE. */
  freeSlots(): number;
  /** A BLMOVE parked `id` in `active`: lease it with the next exchange. */
  claimed(id: string): void;
  /** Gives ids back to waiting (flat id, leased '1' | '0'). */
  release(flat: string[]): Promise<void>;
  fault(err: unknown): void;
  /** The BLMOVE timed out (pollIntervalMs): fetch, then block again if nothing came. */
  timedOut(): void;
  /** The fetch settled: the worker may have become idle. */
  settled(): void;
}

/**
 * The worker's fetch when the queue is empty: one BLMOVE at a time on a dedicated connection, kept
 * between calls, which counts as one of the worker's slots while it waits. An id it moves is only
 * parked in `active`; the worker's next exchange leases it.
 */
export class BlockingFetch {
  readonly #conn: RedisConnection;
  readonly #keys: QueueKeys;
  readonly #blockMs: number;
  readonly #host: BlockingFetchHost;
  #blocking = false;
  #blocker: DedicatedConnection | undefined;
  /** The blocking connection's CLIENT ID, to wake its BLMOVE at stop (undefined if CLIENT is not allowed). */
  #blockerId: string | undefined;

  constructor(conn: RedisConnection, keys: QueueKeys, blockMs: number, host: BlockingFetchHost) {
    this.#conn = conn;
    this.#keys = keys;
    this.#blockMs = blockMs;
    this.#host = host;
  }

  /** True while a BLMOVE (or the connection for it) is pending. */
  get blocking(): boolean {
    return this.#blocking;
  }

  /** Starts a BLMOVE unless one is pending, the worker is stopping or it has no free slot. */
  block(): void {
    if (this.#blocking || !this.#host.running() || this.#host.freeSlots() <= 0) return;
    this.#blocking = true;
    void this.#blockOnce();
  }

  /** Ends a pending BLMOVE now (as if it timed out) rather than after up to pollIntervalMs. */
  wake(): void {
    if (!this.#blocking || this.#blockerId === undefined) return;
    unblockClient(this.#conn, this.#keys, this.#blockerId).catch(() => {});
  }

  /** Gives the connection back to the pool, or closes it while a BLMOVE is still pending. */
  close(): void {
    // A BLMOVE still pending past its bound leaves the connection in an unknown state.
    if (this.#blocking) this.#blocker?.destroy();
    else this.#blocker?.release();
    this.#blocker = undefined;
    this.#blockerId = undefined;
  }

  async #blockOnce(): Promise<void> {
    const host = this.#host;
    let id: string | null = null;
    try {
      if (this.#blocker === undefined) {
        this.#blocker = await leaseBlockingConnection(this.#conn, this.#keys);
        this.#blockerId = await blockingClientId(this.#conn, this.#blocker);
      }
      if (!host.running()) {
        this.#blocking = false;
        host.settled();
        return;
      }
      id = await blockingMove(this.#conn, this.#blocker, this.#keys, this.#blockMs);
    } catch (err) {
      // Its state is unknown (a reply may still come): never reuse it. An id moved meanwhile is an
      // orphan the stalled-job check puts back after leaseMs.
      this.#blocker?.destroy();
      this.#blocker = undefined;
      this.#blockerId = undefined;
      this.#blocking = false;
      if (host.running()) host.fault(err);
      host.settled();
      return;
    }
    if (id !== null && !host.running()) await host.release([id, '0']);
    this.#blocking = false;
    if (id !== null && host.running()) host.claimed(id);
    else if (id === null && host.running()) host.timedOut();
    host.settled();
  }
}
