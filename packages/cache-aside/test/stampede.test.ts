import { fileURLToPath } from 'node:url';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { startChild, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/stampede-child.mjs', import.meta.url));

describe.each(topologies())('stampede protection across processes on $name', ({ url }) => {
  let redis: RedisConnection;
  beforeAll(async () => {
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis?.close();
  });

  /** Starts 4 children with 25 callers each on one cold key, releases them together. */
  async function stampede(prefix: string, loaderMs: number, leaseTtlMs: number) {
    const children = Array.from({ length: 4 }, () =>
      startChild(fixture, [url, prefix, 'cold', String(loaderMs), String(leaseTtlMs), '25'], {
        stderr: 'inherit',
      }),
    );
    try {
      await Promise.all(children.map((c) => c.line((l) => l === 'ready')));
      for (const c of children) c.send('go');
      return children;
    } catch (err) {
      for (const c of children) c.process.kill('SIGKILL');
      throw err;
    }
  }

  const loadCount = async (prefix: string) =>
    Number(await redis.send(['GET', `${prefix}loads`], { key: `${prefix}loads` }));

  it('runs the loader once in total for 100 callers in 4 processes', async () => {
    const prefix = uniquePrefix('stampede');
    const children = await stampede(prefix, 300, 5_000);
    const codes = await Promise.all(children.map(async (c) => (await c.exited).code));
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(await loadCount(prefix)).toBe(1);
    const reports = await Promise.all(children.map((c) => c.line((l) => l.startsWith('{'))));
    const loaders = new Set(reports.flatMap((r) => (JSON.parse(r) as { loadedBy: number[] }).loadedBy));
    expect(loaders.size).toBe(1); // every process got the one loaded value
  });

  it('loads once more, and only once, when the loading process is killed mid-load', async () => {
    const prefix = uniquePrefix('stampede');
    // leaseTtlMs 600: the survivors take over at most ~600 ms after the leader dies.
    const children = await stampede(prefix, 1_500, 600);
    const first = await Promise.race(
      children.map((c) => c.line((l) => l.startsWith('loading')).then(() => c)),
    );
    first.process.kill('SIGKILL');
    const survivors = children.filter((c) => c !== first);
    const codes = await Promise.all(survivors.map(async (c) => (await c.exited).code));
    expect(codes).toEqual([0, 0, 0]);
    expect(await loadCount(prefix)).toBe(2);
    const reports = await Promise.all(survivors.map((c) => c.line((l) => l.startsWith('{'))));
    const loaders = new Set(reports.flatMap((r) => (JSON.parse(r) as { loadedBy: number[] }).loadedBy));
    expect(loaders.size).toBe(1);
    expect(loaders.has(first.process.pid as number)).toBe(false);
  });
});
