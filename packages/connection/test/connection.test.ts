import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { createClient, createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClosedError,
  connect,
  createKeyspace,
  defineScript,
  escapeGlob,
  isWatchError,
  type RedisConnection,
  slotOf,
  toConnection,
} from '../src/index.ts';

describe.each(topologies())('connection on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('conn');

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 2_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('round-trips values through send() and the typed client', async () => {
    const key = `${prefix}greeting`;
    await redis.send(['SET', key, 'hello'], { key });
    expect(await redis.bounded(redis.client.get(key))).toBe('hello');
    expect(await redis.ping()).toBeGreaterThan(0);
    expect(redis.isReady).toBe(true);
  });

  it('gives 50 concurrent isolated WATCH/MULTI transactions the result of running them one by one', async () => {
    const keys = createKeyspace(prefix);
    const counters = Array.from({ length: 5 }, (_, i) => keys.key('tx', `c${i}`));
    // Each transaction moves one unit from counter i to counter i+1 and bumps a total; overlapping
    // keys make WATCH conflicts certain, and a lost update would break the sums below.
    const transfer = async (i: number) => {
      const from = counters[i % 5] as string;
      const to = counters[(i + 1) % 5] as string;
      const total = keys.key('tx', 'total');
      for (;;) {
        const result = await redis.isolated(from, async (client) => {
          await redis.bounded(client.watch([from, to, total]));
          const [a, b, t] = await redis.bounded(client.mGet([from, to, total]));
          return redis.bounded(
            client
              .multi()
              .set(from, String(Number(a ?? 0) - 1))
              .set(to, String(Number(b ?? 0) + 1))
              .set(total, String(Number(t ?? 0) + 1))
              .exec()
              .catch((err: unknown) => (isWatchError(err) ? null : Promise.reject(err))),
          );
        });
        if (result !== null) return;
      }
    };
    await Promise.all(Array.from({ length: 50 }, (_, i) => transfer(i)));
    const values = await redis.bounded(redis.client.mGet([...counters, keys.key('tx', 'total')]));
    // Serially: every counter gives 10 and receives 10, the total counts 50 transfers.
    expect(values).toEqual(['0', '0', '0', '0', '0', '50']);
  });

  it('never lets a WATCH left open leak to the next user of the pooled connection', async () => {
    const single = await connect({ url, isolationPoolSize: 1 });
    try {
      const key = `${prefix}{leak}`;
      await single.isolated(key, async (client) => {
        await single.bounded(client.watch(key));
      });
      await single.send(['SET', key, 'changed-by-someone-else'], { key });
      const reply = await single.isolated(key, (client) =>
        single.bounded(client.multi().set(key, 'mine').exec()),
      );
      expect(reply).toEqual(['OK']);
      expect(await single.send(['GET', key], { key })).toBe('mine');
    } finally {
      await single.close();
    }
  });

  it('keeps running scripts after SCRIPT FLUSH, on every master', async () => {
    const script = defineScript('incrBy', "return redis.call('INCRBY', KEYS[1], ARGV[1])");
    const keys = Array.from({ length: 30 }, (_, i) => `${prefix}script:${i}`);
    const slots = new Set(keys.map((k) => slotOf(k)));
    expect(slots.size).toBeGreaterThan(10);
    for (const key of keys) expect(await redis.runScript(script, [key], ['2'])).toBe(2);
    for await (const node of masters(redis)) await redis.bounded(node.scriptFlush());
    for (const key of keys) expect(await redis.runScript(script, [key], ['3'])).toBe(5);
  });

  it('keeps the first call of a script on a server in order with the commands issued after it', async () => {
    // A fresh script (unique source), so no server has it cached: an EVALSHA would be refused with
    // NOSCRIPT and resent after the GETs below had already run.
    const script = defineScript('setFresh', `return redis.call('SET', KEYS[1], ARGV[1]) -- ${prefix}`);
    const keys = Array.from({ length: 30 }, (_, i) => `${prefix}fresh:${i}`);
    const sets = keys.map((key) => redis.runScript(script, [key], ['new']));
    const gets = keys.map((key) => redis.send<string | null>(['GET', key], { key }));
    await Promise.all(sets);
    expect(await Promise.all(gets)).toEqual(keys.map(() => 'new'));
  });

  it('scans every key on every master, with user glob characters matching literally', async () => {
    const base = `${prefix}scan:`;
    const literal = 'we*rd?[x]';
    const keys = Array.from({ length: 200 }, (_, i) => `${base}${i}`);
    for (const key of keys) await redis.send(['SET', key, '1'], { key });
    await redis.send(['SET', `${base}${literal}`, '1'], { key: `${base}${literal}` });
    await redis.send(['SET', `${base}weXrd![x]`, '1'], { key: `${base}weXrd![x]` });

    const found: string[] = [];
    for await (const key of redis.scan(`${escapeGlob(base)}*`)) found.push(key);
    expect(found.sort()).toEqual([...keys, `${base}${literal}`, `${base}weXrd![x]`].sort());

    const exact: string[] = [];
    for await (const key of redis.scan(escapeGlob(`${base}${literal}`))) exact.push(key);
    expect(exact).toEqual([`${base}${literal}`]);
  });

  it('groups keys so that each group can go into one multi-key command', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `${prefix}group:${i}`);
    const groups = redis.groupBySlot(keys, (k) => k);
    expect(groups.flat().sort()).toEqual([...keys].sort());
    // One group per hash slot on Cluster; one on a single server while nothing is in flight.
    if (redis.topology === 'cluster') expect(groups.length).toBeGreaterThan(2);
    else expect(groups).toHaveLength(1);
    for (const group of groups) {
      await redis.send(['MSET', ...group.flatMap((k) => [k, '1'])], { key: group[0] as string });
      expect(await redis.send<string[]>(['MGET', ...group], { key: group[0] as string })).toEqual(
        group.map(() => '1'),
      );
    }
    expect(redis.groupBySlot([], (k: string) => k)).toEqual([]);
  });

  it('refuses commands after close() with a typed error', async () => {
    const short = await connect({ url });
    await short.close();
    await expect(short.send(['PING'])).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  it('closes the dedicated connections it opened for a client passed in once that client closes', async () => {
    const hosts = url.slice('redis://'.length).replace('?cluster=true', '').split(',');
    const theirs =
      redis.topology === 'cluster'
        ? createCluster({ rootNodes: hosts.map((host) => ({ url: `redis://${host}` })) })
        : createClient({ url });
    await theirs.connect();
    const wrapped = toConnection(theirs as never);
    const key = `${prefix}dedicated`;
    const name = `${prefix}pool`.replace(/[^\w]/g, '_');
    // One pooled connection for transactions and one for blocking reads, both named for CLIENT LIST.
    await wrapped.isolated(key, (client) => client.sendCommand(['CLIENT', 'SETNAME', name]));
    const blocking = await wrapped.dedicated(key);
    await blocking.client.sendCommand(['CLIENT', 'SETNAME', name]);
    blocking.release();
    const named = async () => {
      let count = 0;
      for await (const node of masters(redis)) {
        const list = String(await redis.bounded(node.sendCommand(['CLIENT', 'LIST'])));
        count += list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
      }
      return count;
    };
    expect(await named()).toBe(2);
    await theirs.close();
    for (let i = 0; i < 100 && (await named()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await named()).toBe(0);
    await expect(wrapped.send(['PING'])).rejects.toBeInstanceOf(ClosedError);
  });
});

/** The node clients of every master (the one server on standalone). */
async function* masters(redis: RedisConnection) {
  if (redis.topology !== 'cluster') {
    yield redis.client;
    return;
  }
  const cluster = redis.client as unknown as import('../src/index.ts').RedisCluster;
  for (const master of cluster.masters) yield (await cluster.nodeClient(master)) as typeof redis.client;
}
