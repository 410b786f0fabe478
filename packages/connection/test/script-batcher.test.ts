import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, defineScript, type RedisConnection, slotOf, tagOf } from '../src/index.ts';
import { type ScriptBatch, ScriptBatcher } from '../src/internal.ts';

// Appends ARGV[1] to list KEYS[1]; replies as the batch script does for one call: a shared value,
// then the list's new length.
const pushOne = defineScript(
  'testPushOne',
  `if ARGV[1] == 'boom' then return redis.error_reply('boom') end
return { 'shared', redis.call('RPUSH', KEYS[1], ARGV[1]) }`,
);
// The same for every key; an error for one key (wrong type, or 'boom') fails that call alone.
const pushMany = defineScript(
  'testPushMany',
  `local out = { 'shared' }
for i = 1, #KEYS do
  local ok, reply = pcall(function()
    if ARGV[i] == 'boom' then error('boom') end
    return redis.call('RPUSH', KEYS[i], ARGV[i])
  end)
  if ok then out[i + 1] = reply else out[i + 1] = { err = tostring(reply) } end
end
return out`,
);

interface Push {
  key: string;
  value: string;
}

function pushes(extra: Partial<ScriptBatch<Push, number>> = {}): ScriptBatch<Push, number> {
  return {
    single: pushOne,
    batch: pushMany,
    max: 4,
    keyOf: (p) => p.key,
    argsOf: (calls) => ({ keys: calls.map((c) => c.key), args: calls.map((c) => c.value) }),
    // One value shared by every call first, then one per call.
    layout: { first: 1, slots: 1 },
    decode: (reply, at) => Number((reply as unknown[])[at]),
    ...extra,
  };
}

/** A connection that records each script call and answers it later, when told to. */
function fakeConnection(cluster: boolean) {
  const sent: Array<{
    script: string;
    keys: string[];
    args: string[];
    answer(reply: unknown): void;
    fail(err: unknown): void;
  }> = [];
  const conn = {
    groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
      if (!cluster) return items.length === 0 ? [] : [[...items]];
      const bySlot = new Map<number, T[]>();
      for (const item of items)
        bySlot.set(slotOf(keyOf(item)), [...(bySlot.get(slotOf(keyOf(item))) ?? []), item]);
      return [...bySlot.values()];
    },
    runScript(script: { name: string }, keys: string[], args: string[]) {
      return new Promise((answer, fail) => sent.push({ script: script.name, keys, args, answer, fail }));
    },
  };
  return { conn: conn as unknown as RedisConnection, sent };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ScriptBatcher (fake connection)', () => {
  it('sends a lone call at once with the single script, and the calls made meanwhile together', async () => {
    const { conn, sent } = fakeConnection(false);
    const batcher = new ScriptBatcher(conn, pushes());
    const first = batcher.call({ key: 'a', value: '1' });
    expect(sent.map((s) => s.script)).toEqual(['testPushOne']); // nothing in flight: no waiting
    const later = [batcher.call({ key: 'b', value: '2' }), batcher.call({ key: 'c', value: '3' })];
    expect(sent).toHaveLength(1);
    await tick();
    expect(sent.map((s) => [s.script, s.keys])).toEqual([
      ['testPushOne', ['a']],
      ['testPushMany', ['b', 'c']],
    ]);
    sent[0]?.answer(['shared', 7]);
    sent[1]?.answer(['shared', 8, 9]);
    expect(await first).toBe(7);
    expect(await Promise.all(later)).toEqual([8, 9]);
  });

  it('splits a tick into script calls per group and slot, at most max each, a hash tag together and in order', async () => {
    const { conn, sent } = fakeConnection(true);
    const batcher = new ScriptBatcher(
      conn,
      pushes({ groupOf: (p) => (p.value.startsWith('x') ? 'x' : 'y') }),
    );
    void batcher.call({ key: 'warm', value: 'y' }); // in flight: what follows is gathered
    const calls: Push[] = [];
    for (let i = 0; i < 6; i++) calls.push({ key: `{t}:${i}`, value: `y${i}` });
    for (let i = 0; i < 3; i++)
      calls.push({ key: `{u}:${i}`, value: `x${i}` }, { key: `{v}:${i}`, value: `y${i}` });
    for (const call of calls) void batcher.call(call);
    await tick();
    const batches = sent.slice(1);
    for (const b of batches) {
      expect(b.keys.length).toBeLessThanOrEqual(4);
      expect(new Set(b.keys.map(slotOf)).size).toBe(1);
      expect(new Set(b.args.map((a) => a[0])).size).toBe(1);
    }
    // Every call went out once; each tag's calls in call order, a tag of more than max in batches of its own.
    expect(batches.flatMap((b) => b.keys).sort()).toEqual(calls.map((c) => c.key).sort());
    for (const tag of ['t', 'u', 'v']) {
      const order = batches.flatMap((b) => b.keys).filter((k) => tagOf(k) === tag);
      expect(order).toEqual(calls.filter((c) => tagOf(c.key) === tag).map((c) => c.key));
    }
    expect(batches.filter((b) => b.keys.some((k) => tagOf(k) === 't')).map((b) => b.keys.length)).toEqual([
      4, 2,
    ]);
  });

  it('fails only the call whose slot holds an error, or whose decode throws; a failed script call fails all of its calls', async () => {
    const { conn, sent } = fakeConnection(false);
    const batcher = new ScriptBatcher(
      conn,
      pushes({
        decode: (reply, at) => {
          const value = Number((reply as unknown[])[at]);
          if (value < 0) throw new RangeError('negative');
          return value;
        },
      }),
    );
    void batcher.call({ key: 'a', value: '0' });
    const calls = ['1', '2', '3'].map((value) => batcher.call({ key: value, value }));
    const others = ['4', '5'].map((value) => batcher.call({ key: `{z}${value}`, value }));
    await tick();
    const refused = new Error('WRONGTYPE');
    sent[1]?.answer(['shared', 1, refused, -1, 2, 3].slice(0, 4));
    expect(await Promise.allSettled(calls)).toMatchObject([
      { status: 'fulfilled', value: 1 },
      { status: 'rejected', reason: refused },
      { status: 'rejected', reason: { name: 'RangeError' } },
    ]);
    // `others` shared the batch above only if there was room: with max 4, the fake sent them apart.
    const last = sent.at(-1);
    last?.fail(new Error('down'));
    expect((await Promise.allSettled(others)).map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it("gathers even a lone call for one tick with gather: 'tick', and refuses max < 1", async () => {
    const { conn, sent } = fakeConnection(false);
    const batcher = new ScriptBatcher(conn, pushes({ gather: 'tick' }));
    void batcher.call({ key: 'a', value: '1' });
    void batcher.call({ key: 'b', value: '2' });
    expect(sent).toHaveLength(0);
    await tick();
    expect(sent.map((s) => s.keys)).toEqual([['a', 'b']]);
    expect(() => new ScriptBatcher(conn, pushes({ max: 0 }))).toThrow(/max/);
  });
});

describe.each(topologies())('ScriptBatcher on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('batcher');
  beforeAll(async () => {
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('runs 400 concurrent calls over 20 keys exactly once each, in call order per key; a refused call fails alone', async () => {
    const batcher = new ScriptBatcher(redis, pushes({ max: 25 }));
    const keys = Array.from({ length: 20 }, (_, i) => `${prefix}{k${i % 5}}:${i}`);
    const wrong = `${prefix}{k0}:wrong`;
    await redis.send(['SET', wrong, 'not a list'], { key: wrong });
    const calls = Array.from({ length: 400 }, (_, i) =>
      batcher.call({ key: keys[i % 20] as string, value: String(i) }),
    );
    const refused = Promise.allSettled([
      batcher.call({ key: wrong, value: 'x' }),
      batcher.call({ key: keys[0] as string, value: 'boom' }),
    ]);
    const lengths = await Promise.all(calls);
    expect((await refused).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const [n, key] of keys.entries()) {
      const list = await redis.send<string[]>(['LRANGE', key, '0', '-1'], { key });
      expect(list).toEqual(Array.from({ length: 20 }, (_, i) => String(n + 20 * i)));
      // Each call's reply was its own: the list's length right after its push.
      expect(lengths.filter((_, i) => i % 20 === n)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    }
  });
});
