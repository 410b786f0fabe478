import { escapeGlob } from '@redis-patterns/connection';
import { type KeyPage, scanPage } from '@redis-patterns/connection/internal';
import { isWellFormedId } from '../ids.js';
import { scripts } from '../lua.generated.js';
import type { ResolvedOptions } from '../options.js';
import type { UserIndex } from './user-index.js';

/*
 * The inspector's reads (src/inspect.ts). None of them refreshes a session or prunes an index:
 * an operator looking at sessions must not keep them alive or change what the app sees.
 */

/** A live session's stored metadata, as the inspect script returns it (no data). */
export interface StoredMeta {
  absoluteExpiresAt: number;
  refreshedAt: number;
  createdAt: number;
  userId: string | undefined;
  ownIdleMs: number | undefined;
  dataBytes: number;
  ttlMs: number;
}

export class InspectCommands {
  readonly #opts: ResolvedOptions;
  readonly #index: UserIndex;

  constructor(opts: ResolvedOptions, index: UserIndex) {
    this.#opts = opts;
    this.#index = index;
  }

  /**
   * One page of session-shaped keys (hashes named `<prefix>{<handle>}`, tombstones included) as
   * handles. User indexes are hashes' neighbours under the same prefix but sorted sets: TYPE skips them.
   */
  async handles(
    cursor: string | undefined,
    count: number,
  ): Promise<{ handles: string[]; cursor: string | undefined }> {
    const { keys } = this.#opts;
    const page: KeyPage = await scanPage(this.#opts.conn, `${escapeGlob(keys.prefix)}{*}`, {
      cursor,
      count,
      type: 'hash',
    });
    const handles: string[] = [];
    for (const key of page.keys) {
      const tag = keys.tagOf(key);
      if (tag !== undefined && isWellFormedId(tag) && key === keys.key(tag)) handles.push(tag);
    }
    return { handles, cursor: page.cursor };
  }

  /** The session's metadata without touching its TTL; undefined when no live session is there. */
  async meta(handle: string): Promise<StoredMeta | undefined> {
    const key = this.#opts.keys.key(handle);
    const reply = await this.#opts.conn.runScript<Array<string | number> | null>(scripts.inspect, [key], [], {
      readonly: true,
    });
    if (reply === null) return undefined;
    const [a, r, c, u, i, bytes, ttl] = reply;
    return {
      absoluteExpiresAt: Number(a),
      refreshedAt: Number(r),
      createdAt: Number(c),
      userId: u === '' ? undefined : String(u),
      ownIdleMs: i === '' ? undefined : Number(i),
      dataBytes: Number(bytes),
      ttlMs: Number(ttl),
    };
  }

  /** Round-trip time of a PING in ms. */
  pingMs(): Promise<number> {
    return this.#opts.conn.ping();
  }

  /** True when the user's index holds the handle (pruning aside: read-only). */
  indexed(userId: string, handle: string): Promise<boolean> {
    return this.#index.has(userId, handle);
  }

  /**
   * Handles `offset` to `offset + count - 1` of the user's index, oldest end first, and whether
   * more follow. No pruning: entries past their end are returned and filtered by the caller.
   */
  async userHandles(
    userId: string,
    offset: number,
    count: number,
  ): Promise<{ handles: string[]; more: boolean }> {
    const key = this.#index.key(userId);
    const reply = await this.#opts.conn.send<string[]>(
      ['ZRANGE', key, String(offset), String(offset + count)],
      { key, readonly: true },
    );
    const handles = reply.map(String);
    const more = handles.length > count;
    return { handles: more ? handles.slice(0, count) : handles, more };
  }
}
