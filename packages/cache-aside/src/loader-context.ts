import { InvalidArgumentError } from '@redis-patterns/connection';
import { checkDuration } from '@redis-patterns/connection/internal';
import type { ResolvedEntryOptions } from './options.js';

/** The stale windows a loader may set along with its TTL (see {@link LoaderContext.setTtl}). */
export interface LoaderWindows {
  /** Replaces the entry's `staleMs` for this value. @default the call's `staleMs` */
  staleMs?: number;
  /** Replaces the entry's `staleIfErrorMs` for this value. @default the call's `staleIfErrorMs` */
  staleIfErrorMs?: number;
}

/**
 * What one load decided about its own entry, through its context: a TTL (and stale windows) chosen
 * from the value, or not to cache it. A bad TTL is kept as `error`, so the load fails even if the
 * loader caught the throw: nothing is ever written with a TTL the cache refused.
 */
export class LoadDirectives {
  ttlMs: number | undefined;
  staleMs: number | undefined;
  staleIfErrorMs: number | undefined;
  skip = false;
  error: InvalidArgumentError | undefined;

  setTtl(ttlMs: number, windows?: LoaderWindows): void {
    try {
      checkDuration('setTtl(ttlMs)', ttlMs);
      if (windows !== undefined && (windows === null || typeof windows !== 'object')) {
        throw new InvalidArgumentError(
          'setTtl(windows)',
          'expected { staleMs?, staleIfErrorMs? } or nothing.',
        );
      }
      checkDuration('setTtl(windows).staleMs', windows?.staleMs, { allowZero: true });
      checkDuration('setTtl(windows).staleIfErrorMs', windows?.staleIfErrorMs, { allowZero: true });
    } catch (err) {
      this.error ??= err as InvalidArgumentError;
      throw err;
    }
    this.ttlMs = ttlMs;
    if (windows?.staleMs !== undefined) this.staleMs = windows.staleMs;
    if (windows?.staleIfErrorMs !== undefined) this.staleIfErrorMs = windows.staleIfErrorMs;
  }

  skipCache(): void {
    this.skip = true;
  }

  /** The entry options with what the loader chose; its TTL applies to a `null` value too (not `negativeTtlMs`). */
  apply(o: ResolvedEntryOptions): ResolvedEntryOptions {
    if (this.ttlMs === undefined) return o;
    return {
      ...o,
      ttlMs: this.ttlMs,
      negativeTtlMs: undefined,
      staleMs: this.staleMs ?? o.staleMs,
      staleIfErrorMs: this.staleIfErrorMs ?? o.staleIfErrorMs,
    };
  }
}
