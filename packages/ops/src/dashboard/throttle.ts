import { HttpError } from './api.js';

/** Wrong tokens one address may send in a window before it is locked out. */
const PER_ADDRESS_FAILURES = 10;
/** Wrong tokens from all addresses together in a window before every token check is locked out. */
const GLOBAL_FAILURES = 100;
/** The window failures are counted in, and how long a lockout lasts. */
const WINDOW_MS = 60_000;
/** Addresses tracked at once; beyond it the oldest go (a flood of addresses cannot grow memory). */
const MAX_ADDRESSES = 10_000;

/** Failures in the current window, and until when checks are refused. */
interface Tally {
  windowStart: number;
  failures: number;
  lockedUntil: number;
}

/**
 * Bounds token guessing: after too many wrong tokens from one address (or from all of them, which
 * a proxy in front makes one address anyway) in a window, every token check answers 429 until
 * the lockout ends, the right token included. A login already made (its cookie) is not affected.
 */
export class TokenThrottle {
  readonly #byAddress = new Map<string, Tally>();
  readonly #global: Tally = { windowStart: 0, failures: 0, lockedUntil: 0 };

  /** Throws a 429 HttpError when `address` may not try a token now. */
  check(address: string): void {
    const now = Date.now();
    const own = this.#byAddress.get(address);
    if (this.#global.lockedUntil > now || (own !== undefined && own.lockedUntil > now)) {
      throw new HttpError(429, 'too many wrong tokens: try again in a minute.');
    }
  }

  /** Counts a wrong token from `address`. */
  failed(address: string): void {
    const now = Date.now();
    let own = this.#byAddress.get(address);
    if (own === undefined) {
      if (this.#byAddress.size >= MAX_ADDRESSES) {
        const oldest = this.#byAddress.keys().next().value;
        if (oldest !== undefined) this.#byAddress.delete(oldest);
      }
      own = { windowStart: now, failures: 0, lockedUntil: 0 };
      this.#byAddress.set(address, own);
    }
    count(own, now, PER_ADDRESS_FAILURES);
    count(this.#global, now, GLOBAL_FAILURES);
  }
}

/** Adds a failure to `tally`, starting a new window when the last one ended, and locks at `limit`. */
function count(tally: Tally, now: number, limit: number): void {
  if (now - tally.windowStart >= WINDOW_MS) {
    tally.windowStart = now;
    tally.failures = 0;
  }
  tally.failures++;
  if (tally.failures >= limit) tally.lockedUntil = now + WINDOW_MS;
}
