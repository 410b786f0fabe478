// One rule for bad options, across every public function of every package: an options argument or
// field that is `undefined` (or left out) means the default; `null`, or a value of the wrong type, is
// refused with InvalidArgumentError, naming the argument, before anything is written to Redis.
import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtures, p, rows, url } from './option-rows.ts';

describe('one rule for bad options', () => {
  let redis: RedisConnection;
  let f: ReturnType<typeof fixtures>;
  beforeAll(async () => {
    redis = await connect({ url });
    f = Object.assign(fixtures(redis), { redis });
  });
  afterAll(async () => {
    await f?.cache.close();
    await f?.lock.close();
    await redis?.close();
  });

  it('refuses null and wrong types with InvalidArgumentError naming the argument, and writes nothing', async () => {
    const outcomes: string[] = [];
    for (const [call, argument, run] of rows(f)) {
      let error: unknown;
      try {
        const result = run(redis);
        if (result instanceof Promise) await result;
        else if (result !== null && typeof result === 'object' && Symbol.asyncIterator in result)
          await (result as unknown as AsyncIterator<unknown>).next();
      } catch (err) {
        error = err;
      }
      const ok = error instanceof InvalidArgumentError && error.argument === argument;
      if (!ok) outcomes.push(`${call}: expected InvalidArgumentError(${argument}), got ${String(error)}`);
    }
    expect(outcomes).toEqual([]);
    const written: string[] = [];
    for await (const key of redis.scan(`${p}*`)) written.push(key);
    expect(written).toEqual([]);
  });

  it('treats undefined as the default everywhere it is optional', async () => {
    expect(await f.cache.get('absent', undefined)).toBeUndefined();
    expect(await f.limiter.peek('nobody', undefined)).toMatchObject({ allowed: true });
    expect(await f.board.top(3, undefined)).toEqual([]);
    expect(await f.lock.isLocked('n')).toBe(false);
    await f.worker.stop(undefined);
  });
});
