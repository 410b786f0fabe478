import { performance } from 'node:perf_hooks';
import type { RateLimitResult } from './result.js';

/** Options of the local cache of blocked identifiers (`localBlockCache`). */
export interface LocalBlockCacheOptions {
  /** Most identifiers remembered; the oldest block is forgotten first (it is asked of Redis again). @default 10000 */
  maxEntries?: number;
}

interface Entry {
  /** When the block ends, on this process's monotonic clock (ms). */
  endsAt: number;
  /** When Redis's reply arrived, on the same clock. */
  at: number;
  result: RateLimitResult;
}

/**
 * The blocks this process has seen, so a blocked identifier is refused without a round trip until
 * its block ends. The end is Redis's: the reply gives the block's time left on the server's clock,
 * and it is added to the local monotonic clock when the reply arrives, so the local block ends as
 * much later than Redis's as the reply took to arrive (never earlier), whatever the local wall clock.
 */
export interface BlockCache {
  /** A refusal for a blocked identifier, or undefined when it is not known to be blocked. */
  get(identifier: string): RateLimitResult | undefined;
  /** Remembers the block a result from Redis reports, if any. */
  remember(identifier: string, result: RateLimitResult): void;
  /** Forgets an identifier (after a reset). */
  forget(identifier: string): void;
}

export function createBlockCache(maxEntries: number): BlockCache {
  const blocks = new Map<string, Entry>();
  return {
    get(identifier) {
      const entry = blocks.get(identifier);
      if (entry === undefined) return undefined;
      const now = performance.now();
      const left = Math.ceil(entry.endsAt - now);
      if (left <= 0) {
        blocks.delete(identifier);
        return undefined;
      }
      return refusal(entry, now - entry.at, left);
    },
    remember(identifier, result) {
      const blockedMs = result.blockedMs;
      if (blockedMs === undefined || blockedMs <= 0 || result.error !== undefined) return;
      if (!blocks.has(identifier) && blocks.size >= maxEntries) {
        // The oldest entry goes first (a Map keeps insertion order).
        const oldest = blocks.keys().next();
        if (oldest.done !== true) blocks.delete(oldest.value);
      }
      const at = performance.now();
      blocks.delete(identifier);
      blocks.set(identifier, { endsAt: at + blockedMs, at, result });
    },
    forget(identifier) {
      blocks.delete(identifier);
    },
  };
}

/** The cached refusal, its times counted down by what has passed since Redis answered. */
function refusal({ result }: Entry, elapsed: number, left: number): RateLimitResult {
  const later = (ms: number) => Math.max(left, Math.ceil(ms - elapsed));
  return {
    allowed: false,
    limit: result.limit,
    remaining: 0,
    resetMs: later(result.resetMs),
    retryAfterMs: later(result.retryAfterMs),
    policies: result.policies.map((p) => ({
      ...p,
      allowed: false,
      remaining: 0,
      resetMs: later(p.resetMs),
      retryAfterMs: later(p.retryAfterMs),
      nextUnitMs: later(p.nextUnitMs),
    })),
    blockedMs: left,
    serverTimeMs: result.serverTimeMs + Math.floor(elapsed),
  };
}
