import { TimeoutError } from './errors.js';

/** The slice of a node-redis client the pool needs. */
export interface PoolableClient {
  readonly isReady: boolean;
  destroy(): void;
  close(): Promise<void>;
}

interface Waiter<C> {
  resolve: (client: C) => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout;
}

/**
 * A bounded pool of dedicated connections to one Redis node. WATCH state and blocking commands
 * belong to a connection, so they must never share the multiplexed one; reusing a few dedicated
 * connections avoids a TCP and AUTH handshake per transaction.
 */
export class NodePool<C extends PoolableClient> {
  readonly #idle: C[] = [];
  readonly #waiters: Array<Waiter<C>> = [];
  #size = 0;
  #closed = false;

  constructor(
    private readonly create: () => Promise<C>,
    private readonly maxSize: number,
    private readonly describe: string,
  ) {}

  async acquire(timeoutMs: number): Promise<C> {
    while (this.#idle.length > 0) {
      const client = this.#idle.pop() as C;
      if (client.isReady) return client;
      this.#discard(client);
    }
    if (this.#size < this.maxSize) {
      this.#size++;
      try {
        return await this.create();
      } catch (err) {
        this.#size--;
        this.#wakeOne();
        throw err;
      }
    }
    return new Promise<C>((resolve, reject) => {
      const waiter: Waiter<C> = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(
            new TimeoutError(
              `No dedicated connection to ${this.describe} was free within ${timeoutMs} ms (all ${this.maxSize} in use); raise the pool size or release connections sooner.`,
              timeoutMs,
            ),
          );
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Returns a healthy connection for reuse. */
  release(client: C): void {
    if (this.#closed || !client.isReady) {
      this.#discard(client);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      waiter.resolve(client);
    } else this.#idle.push(client);
  }

  /** Drops a connection whose state is unknown (timed out mid-transaction, socket error). */
  discard(client: C): void {
    this.#discard(client);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new TimeoutError(`The pool for ${this.describe} closed while waiting.`, 0));
    }
    await Promise.allSettled(this.#idle.splice(0).map((c) => c.close()));
  }

  #discard(client: C): void {
    this.#size--;
    try {
      client.destroy();
    } catch {
      // already closed
    }
    this.#wakeOne();
  }

  /** A slot freed up: let the oldest waiter open a fresh connection. */
  #wakeOne(): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) return;
    clearTimeout(waiter.timer);
    this.#size++;
    this.create().then(waiter.resolve, (err: unknown) => {
      this.#size--;
      waiter.reject(err);
    });
  }
}
