import { randomBytes } from 'node:crypto';
import { createKeyspace, type RedisClient, type RedisConnection } from '@redis-patterns/connection';
import { RESP_TYPES } from 'redis';
import { scripts } from '../lua.generated.js';
import { entryPattern } from './inspect.js';

/*
 * Every Redis command of the cache, in one place.
 *
 * Keys (prefix `p`, user key `k`, tag `t`):
 *   p v:{k}   the entry: one string holding value and metadata (see envelope.ts)
 *   p l:{k}   the load lease (SET NX PX): which process loads k; same slot as the entry
 *   p t:{t}   the current version token of tag t
 * The near cache tracks the `p v:` and `p t:` prefixes only, so lease traffic never reaches it; its
 * tracking connections (opened and closed by tracking.ts) are switched to broadcast mode here too.
 * `scripts.<name>` is src/lua/<name>.lua (kebab-case there), with what it takes and returns at its top.
 */

type Text = string | null;

/** The cache's view of Redis: typed calls, each bounded by `timeoutMs`. */
export type Store = ReturnType<typeof createStore>;

export function createStore(conn: RedisConnection, prefix: string) {
  const entries = createKeyspace(`${prefix}v:`);
  const leases = createKeyspace(`${prefix}l:`);
  const tagSpace = createKeyspace(`${prefix}t:`);
  // Hits read text through the raw send path (the fastest node-redis offers); entries whose payload is
  // binary (a Buffer value, a binary serializer) are read a second time as Buffers.
  const bin = conn.client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const b = conn.bounded.bind(conn);

  const read = (key: string, timeoutMs: number): Promise<Text> => {
    const k = entries.key(key);
    return conn.send<Text>(['GET', k], { key: k, readonly: true, timeoutMs });
  };

  /** Runs `send` once per slot (per socket lane on a standalone server), in parallel. */
  const perSlot = (keys: string[], send: (group: string[], pairs: string[], leases: string[]) => unknown) =>
    Promise.all(
      conn
        .groupBySlot(keys, (k) => entries.key(k))
        .map((group) => {
          const leaseKeys = group.map((k) => leases.key(k));
          return send(
            group,
            group.flatMap((k, i) => [entries.key(k), leaseKeys[i] as string]),
            leaseKeys,
          );
        }),
    );

  return {
    prefix,
    entryKey: (key: string) => entries.key(key),
    tagKey: (tag: string) => tagSpace.key(tag),
    /** Prefixes the near cache tracks. */
    trackedPrefixes: [`${prefix}v:`, `${prefix}t:`],

    read,

    readBinary(key: string, timeoutMs: number): Promise<Buffer | null> {
      return b(bin.get(entries.key(key)) as Promise<Buffer | null>, timeoutMs, 'GET');
    },

    async readMany(keys: string[], timeoutMs: number): Promise<Map<string, Text>> {
      const out = new Map<string, Text>();
      await Promise.all(
        conn
          .groupBySlot(keys, (k) => entries.key(k))
          .map(async (group) => {
            const redisKeys = group.map((k) => entries.key(k));
            const replies = await conn.send<Text[]>(['MGET', ...redisKeys], {
              key: redisKeys[0] as string,
              keys: redisKeys,
              readonly: true,
              timeoutMs,
            });
            for (const [i, k] of group.entries()) out.set(k, replies[i] ?? null);
          }),
      );
      return out;
    },

    /**
     * Tries to take the lease; the winner re-reads the entry, after the SET NX: if the lease was free,
     * a leader that committed before us (commit is atomic with its lease release) is visible then.
     */
    async acquire(key: string, token: string, leaseMs: number, timeoutMs: number) {
      const lease = leases.key(key);
      const set = ['SET', lease, token, 'NX', 'PX', String(leaseMs)];
      const won = (await conn.send(set, { key: lease, timeoutMs })) !== null;
      if (!won) return { won, raw: null };
      try {
        return { won, raw: await read(key, timeoutMs) };
      } catch (err) {
        // The lease is ours but cannot be used: give it back, so others need not wait out its TTL.
        await conn.runScript(scripts.releaseLease, [lease], [token], { timeoutMs }).catch(() => {});
        throw err;
      }
    },

    /** The entry and whether its lease still exists (no lease and no entry: the leader gave up or died). */
    async poll(key: string, timeoutMs: number) {
      const lease = leases.key(key);
      const [leaseTtl, raw] = await Promise.all([
        conn.send<number>(['PTTL', lease], { key: lease, readonly: true, timeoutMs }),
        read(key, timeoutMs),
      ]);
      return { leaseAlive: Number(leaseTtl) !== -2, raw };
    },

    async commit(
      key: string,
      token: string,
      bytes: Buffer,
      pxMs: number,
      timeoutMs: number,
    ): Promise<boolean> {
      const keys = [entries.key(key), leases.key(key)];
      const done = await conn.runScript<number>(scripts.commitLoad, keys, [token, bytes, String(pxMs)], {
        timeoutMs,
      });
      return done === 1;
    },

    async write(key: string, bytes: Buffer, pxMs: number, timeoutMs: number): Promise<void> {
      const keys = [entries.key(key), leases.key(key)];
      await conn.runScript(scripts.writeEntry, keys, [bytes, String(pxMs)], { timeoutMs });
    },

    extend(key: string, token: string, leaseMs: number, timeoutMs: number): Promise<unknown> {
      return conn.runScript(scripts.extendLease, [leases.key(key)], [token, String(leaseMs)], { timeoutMs });
    },

    release(key: string, token: string, timeoutMs: number): Promise<unknown> {
      return conn.runScript(scripts.releaseLease, [leases.key(key)], [token], { timeoutMs });
    },

    /** Batch {@link acquire}: one script per slot, in parallel; each key's lease taken and entry re-read. */
    async acquireMany(keys: string[], token: string, leaseMs: number, timeoutMs: number) {
      const out = new Map<string, { won: boolean; raw: Text }>();
      await perSlot(keys, async (group, redisKeys) => {
        const reply = await conn.runScript<Array<string | number>>(
          scripts.acquireLeases,
          redisKeys,
          [token, String(leaseMs)],
          { timeoutMs },
        );
        for (const [i, k] of group.entries()) {
          const item = reply[i];
          out.set(k, { won: item !== 0, raw: typeof item === 'string' ? item : null });
        }
      });
      return out;
    },

    /** Batch {@link commit}: writes each entry whose lease is still `token`'s, one script per slot. */
    async commitMany(
      writes: Array<{ key: string; bytes: Buffer; pxMs: number }>,
      token: string,
      timeoutMs: number,
    ) {
      const byKey = new Map(writes.map((w) => [w.key, w]));
      await perSlot([...byKey.keys()], (group, redisKeys) => {
        const args: Array<string | Buffer> = [token];
        for (const k of group) {
          const w = byKey.get(k) as { bytes: Buffer; pxMs: number };
          args.push(w.bytes, String(w.pxMs));
        }
        return conn.runScript(scripts.commitLoads, redisKeys, args, { timeoutMs });
      });
    },

    /** Batch {@link extend} (the heartbeat of a batch load), one script per slot. */
    extendMany(keys: string[], token: string, leaseMs: number, timeoutMs: number): Promise<unknown> {
      const args = [token, String(leaseMs)];
      return perSlot(keys, (_, __, l) => conn.runScript(scripts.extendLeases, l, args, { timeoutMs }));
    },

    /** Batch {@link release}, one script per slot. */
    releaseMany(keys: string[], token: string, timeoutMs: number): Promise<unknown> {
      return perSlot(keys, (_, __, l) => conn.runScript(scripts.releaseLeases, l, [token], { timeoutMs }));
    },

    /** Deletes entries and their leases (a load in flight then cannot commit its older value). */
    async remove(keys: string[], timeoutMs: number): Promise<number> {
      let removed = 0;
      await Promise.all(
        conn
          .groupBySlot(keys, (k) => entries.key(k))
          .map(async (group) => {
            // Leases go too (a load in flight then cannot commit its older value), but only entries count.
            const keys = group.map((k) => entries.key(k));
            const leaseKeys = group.map((k) => leases.key(k));
            const [count] = await Promise.all([
              conn.send(['DEL', ...keys], { key: keys[0] as string, keys, timeoutMs }),
              conn.send(['DEL', ...leaseKeys], { key: keys[0] as string, keys: leaseKeys, timeoutMs }),
            ]);
            removed += Number(count);
          }),
      );
      return removed;
    },

    async tagVersions(tags: string[], timeoutMs: number): Promise<Map<string, string | null>> {
      const out = new Map<string, string | null>();
      await Promise.all(
        conn
          .groupBySlot(tags, (t) => tagSpace.key(t))
          .map(async (group) => {
            const keys = group.map((t) => tagSpace.key(t));
            const replies = await conn.send<Array<string | null>>(['MGET', ...keys], {
              key: keys[0] as string,
              keys,
              readonly: true,
              timeoutMs,
            });
            for (const [i, t] of group.entries()) out.set(t, replies[i] ?? null);
          }),
      );
      return out;
    },

    async ensureTags(tags: string[], minTtlMs: number, timeoutMs: number): Promise<Array<[string, string]>> {
      const versions = new Map<string, string>();
      const token = randomBytes(9).toString('base64url');
      await Promise.all(
        conn
          .groupBySlot(tags, (t) => tagSpace.key(t))
          .map(async (group) => {
            const keys = group.map((t) => tagSpace.key(t));
            const reply = await conn.runScript<string[]>(
              scripts.ensureTags,
              keys,
              [token, String(minTtlMs)],
              {
                timeoutMs,
              },
            );
            for (const [i, t] of group.entries()) versions.set(t, String(reply[i]));
          }),
      );
      return tags.map((t) => [t, versions.get(t) as string]);
    },

    /** Deletes the tags' versions; returns how many tags had one. */
    async invalidateTags(tags: string[], timeoutMs: number): Promise<number> {
      const counts = await Promise.all(
        conn
          .groupBySlot(tags, (t) => tagSpace.key(t))
          .map((group) => {
            const keys = group.map((t) => tagSpace.key(t));
            return conn.send<number>(['DEL', ...keys], { key: keys[0] as string, keys, timeoutMs });
          }),
      );
      return counts.reduce((sum: number, n) => sum + Number(n), 0);
    },

    pttl(key: string, timeoutMs: number): Promise<number> {
      const k = entries.key(key);
      return conn.send<number>(['PTTL', k], { key: k, readonly: true, timeoutMs }).then(Number);
    },

    /** User keys matching a glob (user glob characters work; everything else is literal), on every master. */
    async *scanKeys(glob: string): AsyncGenerator<string> {
      for await (const redisKey of conn.scan(entryPattern(prefix, glob))) {
        const key = entries.tagOf(redisKey);
        if (key !== undefined && redisKey === entries.key(key)) yield key;
      }
    },
  };
}

/**
 * Switches a tracking connection to broadcast mode over `prefixes`: the server then pushes the name
 * of every key written, deleted, expired or evicted under them, by any client.
 */
export async function trackBroadcast(
  conn: RedisConnection,
  client: RedisClient,
  prefixes: readonly string[],
): Promise<void> {
  // node-redis's handshake turns default-mode tracking on; BCAST needs it off first.
  await conn.bounded(client.sendCommand(['CLIENT', 'TRACKING', 'OFF']), undefined, 'CLIENT TRACKING');
  const on = ['CLIENT', 'TRACKING', 'ON', 'BCAST', ...prefixes.flatMap((p) => ['PREFIX', p])];
  await conn.bounded(client.sendCommand(on), undefined, 'CLIENT TRACKING');
}
