// Runs in a fresh project where only the packed tarballs and `redis` are installed.

import { connect, createCache } from '@redis-patterns/cache-aside';

const redis = await connect({ url: process.env.REDIS_URL });
const cache = createCache({ redis, prefix: 'smoke:cache:', ttlMs: 10_000 });
let loads = 0;
const load = async () => {
  loads++;
  return { at: new Date(0), n: 42n };
};
const first = await cache.getOrLoad('answer', load);
const second = await cache.getOrLoad('answer', load);
await cache.close();
await redis.close();
if (loads !== 1 || !(second.at instanceof Date) || second.n !== 42n || first.n !== 42n) {
  throw new Error(`loads=${loads}, second=${JSON.stringify(String(second.n))}`);
}
console.log('miss then hit, Date and BigInt round-trip, 1 load');
