import type { Cancellations } from './cancellations.js';

/** How soon a worker held back by the queue-wide concurrency limit asks again. */
const HELD_RETRY_MS = 50;

/**
 * When a worker may fetch: not before it listens for cancellations (so that none is missed), and
 * not while the queue holds its jobs back. Each wait ends by calling `fetch`.
 */
export class FetchGate {
  readonly #pollIntervalMs: number;
  readonly #fetch: () => void;
  readonly #cancellations: Cancellations;
  #listening: Promise<void> | undefined;
  #holdTimer: NodeJS.Timeout | undefined;

  constructor(pollIntervalMs: number, fetch: () => void, parts: { cancellations: Cancellations }) {
    this.#pollIntervalMs = pollIntervalMs;
    this.#fetch = fetch;
    this.#cancellations = parts.cancellations;
  }

  /** False until the worker listens for cancellations. */
  get open(): boolean {
    return this.#listening === undefined;
  }

  /** Subscribes to cancellations; the gate opens once subscribed (or given up, within the bound). */
  listen(): void {
    const listening = this.#cancellations.open().then(() => {
      if (this.#listening === listening) this.#listening = undefined;
      this.#fetch();
    });
    this.#listening = listening;
  }

  /**
   * The queue held jobs back (see ExchangeReply.hold): paused (fetch again after pollIntervalMs), at
   * its queue-wide concurrency limit (after HELD_RETRY_MS, or sooner when one of this worker's jobs
   * finishes), or at a rate limit (when the window ends, at most pollIntervalMs).
   */
  holdOff(hold: number): void {
    const poll = this.#pollIntervalMs;
    const ms = hold === -1 ? poll : hold === -2 ? Math.min(HELD_RETRY_MS, poll) : Math.min(hold, poll);
    clearTimeout(this.#holdTimer);
    this.#holdTimer = setTimeout(() => {
      this.#holdTimer = undefined;
      this.#fetch();
    }, ms);
  }

  /** A fetch is starting: a pending hold-off is over. */
  fetching(): void {
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
  }

  /** At stop: no timer or subscriber may keep the process alive. Resolves once the subscriber closed. */
  close(): Promise<void> {
    this.fetching();
    this.#listening = undefined;
    return this.#cancellations.close();
  }
}
