import { connect, type RedisConnection } from '@redis-patterns/lock';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReportStore, runNightlyReport } from '../src/job.ts';

function fencedStore() {
  const rows = new Map<string, { body: string; fence: number }>();
  const store: ReportStore = {
    async write(day, body, fencingToken) {
      const row = rows.get(day);
      if (row !== undefined && row.fence >= fencingToken) return false;
      rows.set(day, { body, fence: fencingToken });
      return true;
    },
  };
  return { rows, store };
}

describe.each(topologies())('cron lock example on $name', ({ url }) => {
  const instances: RedisConnection[] = [];
  beforeAll(async () => {
    // Five service instances, each with its own connection.
    for (let i = 0; i < 5; i++) instances.push(await connect({ url }));
  });
  afterAll(async () => {
    await Promise.all(instances.map((r) => r.close()));
  });

  it('runs the nightly job on exactly one of 5 instances started together', async () => {
    const prefix = uniquePrefix('cron');
    const { rows, store } = fencedStore();
    let builds = 0;
    const build = async () => {
      builds++;
      await new Promise((r) => setTimeout(r, 100));
      return 'the report';
    };
    const outcomes = await Promise.all(
      instances.map((redis) => runNightlyReport(redis, store, '2026-11-22', build, prefix)),
    );
    expect(outcomes.filter((o) => o === 'ran')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'skipped')).toHaveLength(4);
    expect(builds).toBe(1);
    expect(rows.get('2026-11-22')?.body).toBe('the report');
  });

  it('lets a later run through once the first released, and the store refuses an older token', async () => {
    const prefix = uniquePrefix('cron');
    const { rows, store } = fencedStore();
    const [a, b] = instances as [RedisConnection, RedisConnection];
    expect(await runNightlyReport(a, store, 'd', async () => 'first', prefix)).toBe('ran');
    expect(await runNightlyReport(b, store, 'd', async () => 'second', prefix)).toBe('ran');
    const fence = rows.get('d')?.fence ?? 0;
    expect(rows.get('d')?.body).toBe('second');
    // A late writer holding an older token (a holder paused past its TTL) changes nothing.
    expect(await store.write('d', 'stale', fence - 1)).toBe(false);
    expect(rows.get('d')?.body).toBe('second');
  });
});
