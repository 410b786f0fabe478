import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { assertBuilt, type Child, startChild, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLock } from '../src/index.ts';

// Children import the built package (test/fixtures/multi-contender.mjs -> packages/lock/dist).
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

interface Progress {
  completed?: number;
  overlaps?: number;
  done?: boolean;
}

describe.each(topologies())('acquireAll across processes on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('lock-multi-proc');
  const children: Child[] = [];
  const spawn = (args: Record<string, unknown>) => {
    const script = fileURLToPath(new URL('./fixtures/multi-contender.mjs', import.meta.url));
    const child = startChild(script, [JSON.stringify({ url, prefix, ...args })]);
    children.push(child);
    return child;
  };
  const latest = (child: Child): Progress => JSON.parse(child.lines.at(-1) ?? '{}') as Progress;

  beforeAll(async () => {
    assertBuilt(new URL('../dist/index.js', import.meta.url), 'lock');
    redis = await connect({ url });
  });
  afterAll(async () => {
    for (const child of children) child.process.kill('SIGKILL');
    expect(unhandled).toEqual([]);
    await redis?.close();
  });

  it('4 processes take random overlapping subsets in random orders: no name held twice, tokens rising, all progress, also after one is killed -9', async () => {
    const names = ['m-0', 'm-1', 'm-2', 'm-3', 'm-4', 'm-5'];
    const ttlMs = 1_000;
    const workers = Array.from({ length: 4 }, () =>
      // A safety bound only: the test closes their stdin when it has seen what it needs, so no
      // survivor's run ends inside the windows below, however late a sibling started.
      spawn({ names, mode: 'contend', contenders: 3, durationMs: 60_000, ttlMs }),
    );
    await Promise.all(workers.map((w) => w.json<Progress>((line) => Number(line.completed) > 0, 20_000)));
    await sleep(500);
    const [victim, ...survivors] = workers as [Child, ...Child[]];
    victim.process.kill('SIGKILL'); // mid-run: it likely holds some names, which expire by their TTL
    await victim.exited;
    // Every survivor makes progress in each window after the kill: first within the dead holder's
    // TTL plus a margin (its names may block everyone until they expire), then in each next 1.2 s.
    // A deadlock, or names the dead process held forever, would stop some of them.
    let before = survivors.map((w) => Number(latest(w).completed ?? 0));
    for (const windowMs of [ttlMs + 1_200, 1_200]) {
      await sleep(windowMs);
      const now = survivors.map((w) => Number(latest(w).completed ?? 0));
      expect(survivors.map((w) => latest(w).done === true)).toEqual([false, false, false]);
      expect(now.every((count, i) => count > (before[i] as number))).toBe(true);
      before = now;
    }
    // Enough cycles for the overlap and token checks to mean something: waited for rather than
    // expected by a fixed time, since a loaded machine (CI once saw 20 or fewer in these windows)
    // slows every process alike. A survivor that stopped would fail this wait.
    await Promise.all(survivors.map((w) => w.json<Progress>((line) => Number(line.completed) > 20, 30_000)));
    for (const w of survivors) w.process.stdin?.end(); // finish now rather than at durationMs
    const results = await Promise.all(
      survivors.map((w) => w.json<Progress>((line) => line.done === true, 30_000)),
    );
    expect(results.map((r) => r.overlaps)).toEqual([0, 0, 0]);
    expect(results.every((r) => Number(r.completed) > 20)).toBe(true);
    expect(await Promise.all(survivors.map(async (w) => (await w.exited).code))).toEqual([0, 0, 0]);
    for (const name of names) {
      const grants = `${prefix}{${name}}:grants`;
      const tokens = (await redis.send<string[]>(['LRANGE', grants, '0', '-1'], { key: grants })).map(Number);
      expect(tokens.length).toBeGreaterThan(0);
      // RPUSHed inside the critical sections, so each list is in that name's grant order.
      expect(tokens.filter((t, i) => i > 0 && t <= (tokens[i - 1] as number))).toEqual([]);
    }
  });

  it('frees the names of a holder killed -9 by their TTL; the next hold over them gets larger tokens', async () => {
    const ttlMs = 1_000;
    const holder = spawn({ names: ['k-a', 'k-b', 'k-c'], mode: 'hold', ttlMs });
    const acquired = await holder.json<{ tokens: Record<string, number> }>(
      (line) => 'tokens' in line,
      20_000,
    );
    holder.process.kill('SIGKILL');
    await holder.exited;
    const killedAt = performance.now();
    const locks = createLock({ redis, prefix, retry: { acquireTimeoutMs: 10_000 } });
    const next = await locks.acquireAll(['k-c', 'k-d', 'k-a']);
    expect(performance.now() - killedAt).toBeLessThan(ttlMs + 1_500);
    expect(next.fencingToken('k-a')).toBeGreaterThan(acquired.tokens['k-a'] as number);
    expect(next.fencingToken('k-c')).toBeGreaterThan(acquired.tokens['k-c'] as number);
    await next.release();
    await locks.close();
  });
});
