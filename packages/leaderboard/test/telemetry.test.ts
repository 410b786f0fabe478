import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { type Topology, topologies, uniquePrefix } from '@redis-patterns/testing';
import {
  exportedOnRegistration,
  type OtelHarness,
  pointValue,
  registerOtel,
} from '@redis-patterns/testing/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLeaderboard,
  createLeaderboardInspector,
  createLeaderboardMatrix,
  createPeriodicLeaderboard,
} from '../src/index.ts';

describe('leaderboard telemetry without an SDK', () => {
  it('records nothing and still ranks when no provider is registered', async () => {
    const redis = await connect({ url: (topologies()[0] as Topology).url });
    try {
      const board = createLeaderboard({ redis, prefix: uniquePrefix('lb-otel-none'), name: 'arcade' });
      await board.submit('ann', 10);
      expect(await board.rank('ann')).toBe(1);
      expect(await exportedOnRegistration(['redis_patterns.leaderboard.operations'])).toEqual({
        spans: [],
        points: [],
      });
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

  it('traces the atomic calls of a matrix, the pages of an iterator and an aggregate', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const before = [await calls('matrix.submit'), await calls('iterate'), await calls('aggregate')];
      const matrix = createLeaderboardMatrix({
        redis,
        prefix,
        name: 'otel-matrix',
        boards: { allTime: { updatePolicy: 'best' }, runs: { updatePolicy: 'increment' } },
      });
      expect(await matrix.submit('ann', 5)).toEqual({ allTime: 5, runs: 5 });
      expect((await matrix.entry('ann')).runs?.score).toBe(5);
      expect((await matrix.top('allTime', 1)).map((row) => row.allTime?.member)).toEqual(['ann']);
      const [submit] = otel.spans('leaderboard matrix.submit');
      expect(submit?.attributes).toEqual({
        'db.system.name': 'redis',
        'db.operation.name': 'matrix.submit',
        'redis_patterns.leaderboard.name': 'otel-matrix',
      });
      expect(otel.spans('leaderboard matrix.entry')).toHaveLength(1);
      expect(otel.spans('leaderboard matrix.top')).toHaveLength(1);
      // The matrix writes its boards in one script: no span of a board's own submit.
      expect(otel.spans('leaderboard submit')).toEqual([]);

      const board = createLeaderboard({ redis, prefix, name: 'otel-iterate' });
      await board.submitMany(['a', 'b', 'c', 'd', 'e'].map((member, i) => ({ member, score: i })));
      const members: string[] = [];
      for await (const entry of board.iterate({ batch: 2 })) members.push(entry.member);
      expect(members).toHaveLength(5);
      // Pages of 2, 2 and 1 entries: the short page ends the iteration.
      expect(otel.spans('leaderboard iterate')).toHaveLength(3);

      const periodic = createPeriodicLeaderboard({ redis, prefix, name: 'otel-daily', cycle: 'daily' });
      await periodic.submit('ann', 3);
      const merged = await periodic.aggregate(1);
      expect(await merged.score('ann')).toBe(3);
      const [aggregate] = otel.spans('leaderboard aggregate');
      expect(aggregate?.attributes['redis_patterns.leaderboard.name']).toBe('otel-daily');
      const after = [await calls('matrix.submit'), await calls('iterate'), await calls('aggregate')];
      expect(after.map((v, i) => v - (before[i] as number))).toEqual([1, 3, 1]);
    }));

  it('traces the inspector’s calls, with the board reads they make inside', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const board = createLeaderboard({ redis, prefix, name: 'otel-inspected' });
      await board.submit('ann', 7);
      const inspector = createLeaderboardInspector({ redis, prefix });
      expect(await inspector.size('otel-inspected')).toBe(1);
      expect((await inspector.top('otel-inspected', 1)).map((e) => e.member)).toEqual(['ann']);
      const [top] = otel.spans('leaderboard inspect.top');
      expect(top?.attributes).toEqual({ 'db.system.name': 'redis', 'db.operation.name': 'inspect.top' });
      expect(otel.spans('leaderboard inspect.size')).toHaveLength(1);
      const inner = otel
        .spans('leaderboard top')
        .find((s) => s.parentSpanContext?.spanId === top?.spanContext().spanId);
      expect(inner).toBeDefined();
      await inspector.close();
    }));
});
