import { connect, type RedisConnection } from '@redis-patterns/connection';
import { failoverDrill } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { createLeaderboard, type Leaderboard } from '../src/index.ts';

const MEMBERS = 10;

describe.each(['cluster', 'sentinel'] as const)('leaderboard through a %s failover', (topology) => {
  it('applies every acknowledged increment at most once, runs none after its caller was told it failed, and heals', async () => {
    const acknowledged = new Array<number>(MEMBERS).fill(0);
    // Calls whose outcome is unknown: written, then no reply (they may have applied).
    const unknown = new Array<number>(MEMBERS).fill(0);
    const report = await failoverDrill<{ redis: RedisConnection; board: Leaderboard }>({
      topology,
      key: 'lb:{drill}',
      async setup(url) {
        const redis = await connect({ url, commandTimeoutMs: 1_000, reconnect: { maxDelayMs: 200 } });
        return {
          redis,
          board: createLeaderboard({ redis, prefix: 'lb:', name: 'drill', updatePolicy: 'increment' }),
        };
      },
      async operation({ board }, n) {
        const member = n % MEMBERS;
        try {
          await board.increment(`m${member}`, 1);
          acknowledged[member] = (acknowledged[member] as number) + 1;
        } catch (err) {
          if (!/was not sent|not applied/.test(String((err as Error).message)))
            unknown[member] = (unknown[member] as number) + 1;
          throw err;
        }
      },
      async check({ board }) {
        let lost = 0;
        for (let member = 0; member < MEMBERS; member++) {
          const score = (await board.score(`m${member}`)) ?? 0;
          const acked = acknowledged[member] as number;
          // Never more than what was acknowledged or may have applied: no ghost increments.
          expect(score).toBeLessThanOrEqual(acked + (unknown[member] as number));
          lost += Math.max(0, acked - score);
        }
        console.info(`leaderboard ${topology} failover: ${lost} acknowledged increments lost`);
      },
      teardown: ({ redis }) => redis.close(),
    });
    console.info(`leaderboard ${topology} failover`, report);
    expect(Object.keys(report.failures).filter((kind) => kind.startsWith('untyped'))).toEqual([]);
    expect(report.slowestMs).toBeLessThan(1_000 + 500 + report.stalledMs);
    expect(report.healedAfterMs).toBeLessThan(15_000);
    expect(report.succeeded).toBeGreaterThan(report.calls / 2);
  });
});
