import { createKeyspace, escapeGlob, type RedisConnection } from '@redis-patterns/connection';
import { type KeyPage, scanPage } from '@redis-patterns/connection/internal';
import { RESP_TYPES } from 'redis';

/*
 * The inspector's own reads (src/inspect.ts): a page of keys, an entry's header without its
 * value, its memory. Its writes (tag invalidation, deletes) are the cache's own, in index.ts.
 */

/**
 * The SCAN MATCH pattern of the entries whose user keys match `glob`: the prefix is literal, the
 * glob's own wildcards work. The keyspace percent-encodes % { } inside hash tags, and so is the
 * glob, so a glob can never reach past the entry's `{...}` into another key shape.
 */
export function entryPattern(prefix: string, glob: string): string {
  const encoded = glob.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${escapeGlob(`${prefix}v:`)}{${encoded}}`;
}

/** Bytes read to find an entry's header; a longer header (large metadata) costs a full GET. */
const HEAD_BYTES = 4096;

/** What one key under the prefix is. */
export type KeyKind = 'entry' | 'tag' | 'lease' | 'other';

/** The inspector's view of Redis. */
export type InspectStore = ReturnType<typeof createInspectStore>;

export function createInspectStore(conn: RedisConnection, prefix: string) {
  const entries = createKeyspace(`${prefix}v:`);
  const spaces: Array<[KeyKind, ReturnType<typeof createKeyspace>]> = [
    ['entry', entries],
    ['tag', createKeyspace(`${prefix}t:`)],
    ['lease', createKeyspace(`${prefix}l:`)],
  ];
  const bin = conn.client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });

  /** A key of the cache's own shape: its kind and its user key or tag. */
  const classify = (redisKey: string): { kind: KeyKind; name: string } => {
    for (const [kind, space] of spaces) {
      const name = space.tagOf(redisKey);
      if (name !== undefined && redisKey === space.key(name)) return { kind, name };
    }
    return { kind: 'other', name: redisKey };
  };

  return {
    classify,

    /** A page of user keys whose entries match `glob`. */
    async entryKeys(glob: string, cursor: string | undefined, count: number) {
      const page: KeyPage = await scanPage(conn, entryPattern(prefix, glob), { cursor, count });
      const keys: string[] = [];
      for (const redisKey of page.keys) {
        const { kind, name } = classify(redisKey);
        if (kind === 'entry') keys.push(name);
      }
      return { keys, cursor: page.cursor };
    },

    /** A page of every key under the prefix (entries, tag versions, leases). */
    prefixKeys(cursor: string | undefined, count: number): Promise<KeyPage> {
      return scanPage(conn, `${escapeGlob(prefix)}*`, { cursor, count });
    },

    /**
     * The first bytes of an entry (its header, unless the header is longer), its size and its PTTL;
     * null when the key is absent.
     */
    async head(key: string) {
      const k = entries.key(key);
      const [start, size, ttl] = await Promise.all([
        conn.bounded(bin.getRange(k, 0, HEAD_BYTES - 1) as Promise<Buffer>, undefined, 'GETRANGE'),
        conn.send<number>(['STRLEN', k], { key: k, readonly: true }),
        conn.send<number>(['PTTL', k], { key: k, readonly: true }),
      ]);
      if (Number(ttl) === -2) return null;
      const whole = start.includes(0x0a) ? start : await this.value(key);
      return whole === null ? null : { bytes: whole, size: Number(size), ttlMs: Number(ttl) };
    },

    /** The whole stored entry as bytes, or null. */
    value(key: string): Promise<Buffer | null> {
      return conn.bounded(bin.get(entries.key(key)) as Promise<Buffer | null>, undefined, 'GET');
    },

    /** Round-trip time of a PING in ms. */
    pingMs: (): Promise<number> => conn.ping(),

    /** MEMORY USAGE of a key under the prefix (bytes Redis holds for it), or null if it is gone. */
    async memory(redisKey: string): Promise<number | null> {
      const used = await conn.send<number | null>(['MEMORY', 'USAGE', redisKey], {
        key: redisKey,
        readonly: true,
      });
      return used === null ? null : Number(used);
    },
  };
}
