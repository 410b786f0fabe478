import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { type Topology, topologies, uniquePrefix } from '@redis-patterns/testing';
import { type OtelHarness, pointValue, registerOtel } from '@redis-patterns/testing/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeaderboard, createPeriodicLeaderboard } from '../src/index.ts';

describe('leaderboard telemetry without an SDK', () => {
  it('records nothing and still ranks when no provider is registered', async () => {
    const redis = await connect({ url: (topologies()[0] as Topology).url });
    try {
      const board = createLeaderboard({ redis, prefix: uniquePrefix('lb-otel-none'), name: 'arcade' });
      await board.submit('ann', 10);
      expect(await board.rank('ann')).toBe(1);
      const otel = registerOtel();
      try {
        expect(otel.spans()).toEqual([]);
        expect(await otel.points('redis_patterns.leaderboard.operations')).toEqual([]);
      } finally {
        await otel.shutdown();
      }
    } finally {
      await redis.close();
    }
  });
});

describe.each(topologies())('leaderboard telemetry on $name', ({ url }) => {
  let redis: RedisConnection;
  let otel: OtelHarness;
  const prefix = uniquePrefix('lb-otel');
  beforeAll(async () => {
    otel = registerOtel();
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis.close();
    await otel.shutdown();
  });
  const calls = async (operation: string) =>
    pointValue(await otel.points('redis_patterns.leaderboard.operations'), { operation });

  it('traces submit and reads with the board name and counts them by operation', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const before = [await calls('submit'), await calls('top')];
      const board = createLeaderboard({ redis, prefix, name: 'arcade' });
      await board.submit('ann', 10);
      await board.submit('bob', 20);
      expect((await board.top(2)).map((e) => e.member)).toEqual(['bob', 'ann']);
      expect([await calls('submit'), await calls('top')]).toEqual([
        (before[0] as number) + 2,
        (before[1] as number) + 1,
      ]);
      const [submit] = otel.spans('leaderboard submit');
      expect(submit?.attributes).toEqual({
        'db.system.name': 'redis',
        'db.operation.name': 'submit',
        'redis_patterns.leaderboard.name': 'arcade',
      });
      expect(otel.spans('leaderboard top')).toHaveLength(1);
    }));

  it('marks a rejected call as an error and traces the boards of a periodic leaderboard', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const board = createLeaderboard({ redis, prefix, name: 'errors' });
      await expect(board.submit('ann', Number.NaN)).rejects.toBeInstanceOf(InvalidArgumentError);
      const [failed] = otel.spans('leaderboard submit');
      expect(failed?.status.code).toBe(2);
      expect(failed?.attributes['error.type']).toBe('ERR_INVALID_ARGUMENT');
      const periodic = createPeriodicLeaderboard({ redis, prefix, name: 'weekly', cycle: 'daily' });
      await periodic.current().submit('ann', 1);
      const spans = otel.spans('leaderboard submit');
      expect(spans).toHaveLength(2);
      expect(String(spans[1]?.attributes['redis_patterns.leaderboard.name'])).toContain('weekly');
    }));
});
