import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { assertBuilt, type Child, startChild, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSemaphore } from '../src/index.ts';

// Children import the built package (test/fixtures/*.mjs -> packages/lock/dist).
describe.each(topologies())('semaphore across processes on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('sem-proc');
  const children: Child[] = [];
  const spawn = (args: Record<string, unknown>) => {
    const script = fileURLToPath(new URL('./fixtures/sem-contender.mjs', import.meta.url));
    const child = startChild(script, [JSON.stringify({ url, prefix, ...args })]);
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    assertBuilt(new URL('../dist/index.js', import.meta.url), 'lock');
    redis = await connect({ url });
  });
  afterAll(async () => {
    for (const child of children) child.process.kill('SIGKILL');
    await redis?.close();
  });

  it('never admits more than 3 holders across 4 processes with 2 killed -9 mid-run; per slot, the resource sees tokens only rise', async () => {
    const name = 'pool';
    const permits = 3;
    const workers = Array.from({ length: 4 }, () =>
      spawn({ name, permits, contenders: 5, cycles: 40, ttlMs: 2_000, holdMs: 5 }),
    );
    // Everyone is contending; then two processes die, most likely holding permits.
    await Promise.all(
      workers.map((w) => w.json<Record<string, unknown>>((line) => Number(line.completed) >= 10, 20_000)),
    );
    const [first, second, ...survivors] = workers as [Child, Child, Child, Child];
    first.process.kill('SIGKILL');
    second.process.kill('SIGKILL');
    const killedAt = performance.now();
    const done = await Promise.all(
      survivors.map((w) => w.json<Record<string, unknown>>((line) => line.done === true, 40_000)),
    );
    expect(done.map((line) => line.completed)).toEqual([200, 200]);
    expect(await Promise.all(survivors.map(async (w) => (await w.exited).code))).toEqual([0, 0]);

    const key = (part: string) => `${prefix}{${name}}:resource:${part}`;
    const get = (part: string) => redis.send<string | null>(['GET', key(part)], { key: key(part) });
    expect({ overlaps: await get('overlaps'), stale: await get('stale') }).toEqual({
      overlaps: null,
      stale: null,
    });
    // The log is appended inside the critical sections: per slot, in the order the slot was held.
    const log = await redis.send<string[]>(['LRANGE', key('log'), '0', '-1'], { key: key('log') });
    expect(log.length).toBeGreaterThan(400);
    const bySlot = new Map<string, number[]>();
    for (const entry of log) {
      const [slot, token] = entry.split(':') as [string, string];
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), Number(token)]);
    }
    expect([...bySlot.keys()].sort()).toEqual(['0', '1', '2']);
    for (const tokens of bySlot.values()) {
      expect(tokens.filter((token, i) => i > 0 && token <= (tokens[i - 1] as number))).toEqual([]);
    }
    // The dead holders' permits expire at their TTL (2 s after the kill at most), freeing the name.
    const semaphore = createSemaphore({ redis, prefix, permits });
    let left = await semaphore.holders(name);
    for (const until = killedAt + 2_000 + 500; left > 0 && performance.now() < until; await sleep(50))
      left = await semaphore.holders(name);
    expect(left).toBe(0);
    await semaphore.close();
  });
});
