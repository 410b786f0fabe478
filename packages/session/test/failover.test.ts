import { connect, type RedisConnection } from '@redis-patterns/connection';
import { failoverDrill } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { createSessionStore, type SessionStore } from '../src/index.ts';

describe.each(['cluster', 'sentinel'] as const)('sessions through a %s failover', (topology) => {
  it('keeps acknowledged sessions readable, fails only with typed errors, and heals', async () => {
    const created: string[] = [];
    let missing = 0;
    const report = await failoverDrill<{ redis: RedisConnection; sessions: SessionStore }>({
      topology,
      key: 'sess:{drill}',
      async setup(url) {
        const redis = await connect({ url, commandTimeoutMs: 1_000, reconnect: { maxDelayMs: 200 } });
        const sessions = createSessionStore({ redis });
        for (let i = 0; i < 60; i++) created.push((await sessions.create({ n: i })).id);
        return { redis, sessions };
      },
      async operation({ sessions }, n) {
        if (n % 4 === 0) {
          created.push((await sessions.create({ n })).id);
          return;
        }
        const id = created[n % created.length] as string;
        if ((await sessions.get(id)) === null) missing++;
      },
      async check({ sessions }) {
        let lost = 0;
        for (const id of created) if ((await sessions.get(id)) === null) lost++;
        console.info(`session ${topology} failover: ${lost} of ${created.length} acknowledged sessions lost`);
      },
      teardown: ({ redis }) => redis.close(),
    });
    console.info(`session ${topology} failover`, report, { missingDuringLoad: missing });
    expect(Object.keys(report.failures).filter((kind) => kind.startsWith('untyped'))).toEqual([]);
    expect(report.slowestMs).toBeLessThan(1_000 + 500 + report.stalledMs);
    expect(report.healedAfterMs).toBeLessThan(15_000);
  });
});
