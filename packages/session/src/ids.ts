import * as crypto from 'node:crypto';

/** Characters in an id: 32 random bytes in unpadded base64url. */
export const ID_LENGTH = 43;

// 256 bits fill 42 base64url characters and 4 bits of the 43rd, whose low 2 bits are always zero:
// only these 16 characters can end a well-formed id.
const ID_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/**
 * A new session id: 256 bits from the operating system's CSPRNG (`crypto.randomBytes`), as 43
 * URL-safe characters. Far above OWASP's 64-bit floor, so guessing a live id is hopeless even with
 * billions of sessions.
 */
export function generateId(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/** True for a string shaped like an id from {@link generateId}; says nothing about whether it is live. */
export function isWellFormedId(id: unknown): id is string {
  return typeof id === 'string' && id.length === ID_LENGTH && ID_PATTERN.test(id);
}

/**
 * The session's handle: base64url(SHA-256(id)). Redis only ever holds handles, so a dump, SCAN or
 * MONITOR of Redis shows no usable session token; a handle cannot be turned back into its id, and
 * `get` never accepts one.
 */
export function handleOf(id: string): string {
  return oneShotHash === undefined
    ? crypto.createHash('sha256').update(id).digest('base64url')
    : oneShotHash('sha256', id, 'base64url');
}

// crypto.hash (Node >= 20.12) hashes without building a Hash object; every read hashes an id.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string })
  .hash;

/** Longest id a framework may hand the store (it is hashed on every read). */
export const MAX_FRAMEWORK_ID_LENGTH = 256;

// Printable ASCII without spaces, holding a run of 32 or more URL-safe characters: the random part.
const FRAMEWORK_ID = /^[\x21-\x7e]+$/;
const RANDOM_RUN = /[A-Za-z0-9_-]{32}/;

/**
 * True for a session id a framework may use: at most 256 printable ASCII characters (no spaces)
 * that contain at least 32 consecutive URL-safe characters (`A-Z a-z 0-9 _ -`), the part that must
 * come from a CSPRNG. That admits this store's ids (43 characters, 256 bits), the frameworks'
 * defaults (32 characters, 192 bits), a UUID (36 with its dashes, 122 random bits) and custom ids
 * such as `user:42:<uuid>`; it refuses ids like `123` that no generator of random ids makes. It
 * is a shape check: it cannot tell random characters from others, so generate the run randomly.
 */
export function isFrameworkId(sid: unknown): sid is string {
  return (
    typeof sid === 'string' &&
    sid.length <= MAX_FRAMEWORK_ID_LENGTH &&
    FRAMEWORK_ID.test(sid) &&
    RANDOM_RUN.test(sid)
  );
}

// A generated id is looked up here only within the request that generated it (a regenerate's
// destroy comes a few milliseconds after the generate); past these bounds it takes the usual path.
const MAX_FRESH_IDS = 10_000;
const MAX_FRESH_AGE_MS = 60_000;

/**
 * Ids this process generated and has not saved, read or written yet: no key can hold one (it is
 * 256 random bits, and the only way one reaches Redis is a save from this process), so destroying
 * one needs no round trip. A regenerate of a new visitor's session (a login) then costs only its
 * save. Bounded in count and age; an id evicted early simply takes the usual path.
 */
export class FreshIds {
  /** Id to the time it was generated; insertion order is age order. */
  readonly #ids = new Map<string, number>();
  #swept = 0;

  /** A new id, remembered as fresh. */
  generate(): string {
    const id = generateId();
    const now = Date.now();
    this.#ids.set(id, now);
    // Aged ids go at most once a second (take() checks the age anyway); overflow goes at once.
    if (this.#ids.size > MAX_FRESH_IDS || now - this.#swept >= 1_000) {
      this.#swept = now;
      for (const [oldest, at] of this.#ids) {
        if (this.#ids.size <= MAX_FRESH_IDS && now - at < MAX_FRESH_AGE_MS) break;
        this.#ids.delete(oldest);
      }
    }
    return id;
  }

  /**
   * True if `id` was still fresh; it no longer is. Called before anything of `id` is sent to
   * Redis: once a write may have reached it, its destroy must go to Redis too.
   */
  take(id: string): boolean {
    const at = this.#ids.get(id);
    if (at === undefined) return false;
    this.#ids.delete(id);
    return Date.now() - at < MAX_FRESH_AGE_MS;
  }
}
