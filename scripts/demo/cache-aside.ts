import { createCache } from '@redis-patterns/cache-aside';
import { type DemoScenario, expectThat } from './scenario.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const cacheAsideTour: DemoScenario = {
  name: 'cache-aside',
  title: 'Cache-aside: read-through cache with stampede protection and tags',
  async run({ redis, log }) {
    const cache = createCache({ redis, prefix: `demo:${process.pid}:cache:`, ttlMs: 30_000 });
    try {
      // A slow "database" call; 50 callers ask for the same cold key at the same moment.
      let queries = 0;
      const loadProduct = async () => {
        queries++;
        await sleep(100);
        return { id: 42, name: 'Teapot', price: 1999n, updatedAt: new Date() };
      };
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: 50 }, () => cache.getOrLoad('product:42', loadProduct, { tags: ['catalog'] })),
      );
      log(
        `50 concurrent callers on a cold key → ${queries} database query, all answered in ${(performance.now() - started).toFixed(0)} ms`,
      );
      expectThat(queries === 1, `the loader ran ${queries} times, expected once`);
      expectThat(
        results.every((p) => p.price === 1999n && p.updatedAt instanceof Date),
        'BigInt or Date did not survive the round trip',
      );
      log(`The value keeps its types: price is a ${typeof results[0]?.price}, updatedAt a Date`);

      for (let i = 0; i < 10; i++) await cache.getOrLoad('product:42', loadProduct, { tags: ['catalog'] });
      const stats = cache.stats();
      log(
        `10 more reads → 60 calls in all: ${stats.hits} hits, ${stats.misses} miss, ${stats.joined} joined the first load, ${stats.loads} load`,
      );
      expectThat(
        stats.hits === 10 && stats.misses === 1 && stats.joined === 49 && stats.loads === 1,
        `expected 10 hits, 1 miss, 49 joined and 1 load, got ${JSON.stringify(stats)}`,
      );

      await cache.invalidateTag('catalog');
      await cache.getOrLoad('product:42', loadProduct, { tags: ['catalog'] });
      const total = cache.stats().loads;
      log(`After invalidateTag('catalog') the next read is a miss → ${total} database queries in total`);
      expectThat(total === 2, `expected a reload after the tag invalidation, got ${total} queries`);
    } finally {
      await cache.deletePattern('*');
      await cache.close();
    }
  },
};
