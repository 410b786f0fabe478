import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue } from '../src/index.ts';
import { type ChildWorker, sleep, spawnWorker, waitFor } from './helpers.ts';

// Worker processes run the BUILT package: build connection and queue (tsc -p tsconfig.build.json) first.
describe.each(topologies())('poison job on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('poison');

  beforeAll(async () => {
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('sends a job that crashes every worker to the dead-letter set after maxStalls rescues', async () => {
    const name = 'poison';
    const maxStalls = 2;
    const queue = createQueue<{ poison?: boolean; n?: number }>({ redis, prefix, name });
    await queue.add({ poison: true }, { id: 'poison' });
    await queue.addBulk(
      Array.from({ length: 20 }, (_, n) => ({ payload: { n }, options: { id: `ok${n}` } })),
    );
    const config = { url, name, prefix, concurrency: 1, leaseMs: 500, maxStalls, pollIntervalMs: 100 };
    let crashes = 0;
    let alive = false;
    let current: ChildWorker | undefined;
    const finished = async () => (await queue.get('poison'))?.state === 'dead';
    try {
      // Like a process manager: start a new worker each time one dies, until the poison job is dead.
      const deadline = performance.now() + 40_000;
      while (!(await finished())) {
        if (!alive) {
          alive = true;
          current = spawnWorker(config);
          void current.exited.then(({ signal }) => {
            alive = false;
            if (signal === 'SIGKILL') crashes++;
          });
        }
        if (performance.now() > deadline) throw new Error(`poison job not dead after ${crashes} crashes`);
        await sleep(25);
      }
      await waitFor(async () => (await queue.counts()).completed === 20, 'the other 20 jobs', 15_000);
      expect(crashes).toBe(maxStalls + 1);
      expect(await queue.get('poison')).toMatchObject({ state: 'dead', deadReason: 'stalled', stalls: 3 });
      expect(await queue.counts()).toMatchObject({
        dead: 1,
        completed: 20,
        stalled: 3,
        waiting: 0,
        active: 0,
        added: 21,
      });
    } finally {
      await current?.stop();
      await queue.purge();
    }
  }, 60_000);
});
