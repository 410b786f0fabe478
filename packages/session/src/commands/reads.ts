import type { RedisConnection } from '@redis-patterns/connection';
import { ScriptBatcher } from '@redis-patterns/connection/internal';
import { type Loaded, loadedAt, READ_SLOTS, type ReadReply, refreshSkip } from '../codec.js';
import { scripts } from '../lua.generated.js';
import type { ResolvedOptions } from '../options.js';
import { countRead } from '../otel.js';

/** Most reads one batched read script serves (touchAfterMs 0 only). */
const MAX_READ_BATCH = 25;
/** The fields a read takes, in the order of {@link fromFields}. */
const READ_FIELDS = ['a', 'r', 'c', 'u', 'd', 'i', 'v'] as const;

/**
 * A store's reads. With a refresh window (touchAfterMs > 0, the default) a read is one plain HMGET:
 * the app decides from the session's last refresh whether the idle TTL is due to slide, and only
 * then runs the touch script, which checks again on the server clock (so concurrent readers slide it
 * once, and a session destroyed meanwhile is never recreated). Most reads so cost Redis a single
 * HMGET, and one in each window per session a second round trip. With touchAfterMs 0 every read
 * slides the TTL, so the read script does both in one round trip, batched per tick and slot.
 *
 * The app's clock decides only when to ask for a refresh and whether the absolute end has passed;
 * Redis removes the key by itself at that end, on its own clock, since every refresh caps the TTL
 * there. Clock skew between app servers and Redis moves both by the skew, no more.
 */
export class SessionReads {
  readonly #conn: RedisConnection;
  readonly #touchAfterMs: number;
  readonly #touchArgs: string[];
  readonly #batched: ScriptBatcher<string, Loaded | null> | undefined;

  constructor(opts: ResolvedOptions) {
    this.#conn = opts.conn;
    this.#touchAfterMs = opts.touchAfterMs;
    const readArgs = [String(opts.idleTtlMs), String(opts.touchAfterMs)];
    // The touch script's refresh-only form: no new lifetime (see touch.lua).
    this.#touchArgs = [...readArgs, '', '', ''];
    if (opts.touchAfterMs > 0) return;
    // Reads asked for in the same tick share script calls (per hash slot, so on Cluster only keys of
    // one slot do). With none in flight a read goes out at once, so a lone request waits for nothing.
    this.#batched = new ScriptBatcher<string, Loaded | null>(opts.conn, {
      single: scripts.read,
      batch: scripts.readBatch,
      max: MAX_READ_BATCH,
      keyOf: (key) => key,
      argsOf: (keys) => ({ keys: [...keys], args: readArgs }),
      layout: { first: 1, slots: READ_SLOTS },
      // A single read replies nil for a session that is gone; a batch, nulls in its slots.
      decode: (reply, at) => countRead(reply === null ? null : loadedAt(reply as ReadReply, at)),
    });
  }

  /** The session at `key` with its idle TTL slid when due, or null when it is gone. */
  async read(key: string): Promise<Loaded | null> {
    if (this.#batched !== undefined) return this.#batched.call(key);
    const started = performance.now();
    const fields = await this.#conn.send<Array<string | null>>(['HMGET', key, ...READ_FIELDS], { key });
    const now = Date.now();
    const loaded = fromFields(fields, now);
    if (loaded === null || !this.#due(loaded, now)) return countRead(loaded);
    // The refresh gets what is left of the read's bound, so a get stays within commandTimeoutMs.
    const bound = this.#conn.commandTimeoutMs;
    const timeoutMs = bound === 0 ? 0 : Math.max(1, bound - (performance.now() - started));
    const state = await this.#conn.runScript<number>(scripts.touch, [key], this.#touchArgs, { timeoutMs });
    if (state < 0) return countRead(null);
    if (state === 1) {
      loaded.refreshed = true;
      loaded.meta.refreshedAt = now;
    }
    return countRead(loaded);
  }

  /** Whether the last refresh is out of the skip window (src/lua/lib/window.lua's, for own timeouts). */
  #due(loaded: Loaded, now: number): boolean {
    return now - loaded.meta.refreshedAt >= refreshSkip(loaded.meta.ownIdleMs, this.#touchAfterMs);
  }
}

/**
 * A session from its HMGET reply; null for a key without a session (gone, a tombstone) or past its
 * absolute end by `now`.
 */
function fromFields(fields: Array<string | null>, now: number): Loaded | null {
  const [a, r, c, u, d, i, v] = fields;
  if (a == null || r == null || d == null) return null;
  const absoluteExpiresAt = Number(a);
  if (absoluteExpiresAt <= now) return null;
  return {
    now,
    refreshed: false,
    meta: {
      createdAt: c == null ? Number(r) : Number(c),
      absoluteExpiresAt,
      refreshedAt: Number(r),
      version: v ?? '',
      userId: u ?? undefined,
      ownIdleMs: i == null ? undefined : Number(i),
    },
    blob: d,
  };
}
