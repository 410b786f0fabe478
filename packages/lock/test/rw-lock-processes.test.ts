import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { assertBuilt, type Child, startChild, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadWriteLock } from '../src/index.ts';

// Children import the built package (test/fixtures/*.mjs -> packages/lock/dist).
describe.each(topologies())('read/write lock across processes on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('rw-proc');
  const children: Child[] = [];
  const spawn = (args: Record<string, unknown>) => {
    const script = fileURLToPath(new URL('./fixtures/rw-contender.mjs', import.meta.url));
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

  it('never lets a writer in with anyone else across 4 processes with 2 killed -9 mid-run; tokens rise past every earlier writer', async () => {
    const name = 'doc';
    const workers = Array.from({ length: 4 }, () =>
      spawn({ name, readers: 4, writers: 1, cycles: 30, ttlMs: 2_000, holdMs: 5 }),
    );
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
    expect(done.map((line) => line.completed)).toEqual([150, 150]);
    expect(await Promise.all(survivors.map(async (w) => (await w.exited).code))).toEqual([0, 0]);

    const key = (part: string) => `${prefix}{${name}}:resource:${part}`;
    const get = (part: string) => redis.send<string | null>(['GET', key(part)], { key: key(part) });
    expect({ violations: await get('violations'), stale: await get('stale') }).toEqual({
      violations: null,
      stale: null,
    });
    // Both kinds ran, and readers really shared the lock.
    const entries = await redis.send<string[]>(['HMGET', key('entries'), 'r', 'w'], { key: key('entries') });
    expect(Number(entries[0])).toBeGreaterThanOrEqual(240);
    expect(Number(entries[1])).toBeGreaterThanOrEqual(60);
    expect(Number(await get('most-readers'))).toBeGreaterThan(1);
    // The dead holders' grants expire at their TTL (2 s after the kill at most), freeing the name.
    const rw = createReadWriteLock({ redis, prefix });
    const idle = { readers: 0, writer: false, writersWaiting: 0 };
    let state = await rw.state(name);
    for (const until = killedAt + 2_000 + 500; performance.now() < until; await sleep(50)) {
      if (state.readers === 0 && !state.writer && state.writersWaiting === 0) break;
      state = await rw.state(name);
    }
    expect(state).toEqual(idle);
    await rw.close();
  });
});
