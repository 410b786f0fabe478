// Runs in a fresh project where only the packed tarballs and `redis` are installed.
import { connect, createLock } from '@redis-patterns/lock';

const redis = await connect({ url: process.env.REDIS_URL });
const locks = createLock({ redis, prefix: 'smoke:lock:', ttlMs: 5_000 });
const tokens = [];
await Promise.all(
  Array.from({ length: 5 }, () =>
    locks.withLock(`smoke-${process.pid}`, async (_signal, handle) => tokens.push(handle.fencingToken)),
  ),
);
const busy = await locks.tryAcquire(`smoke-${process.pid}`);
await busy?.release();
await locks.close();
await redis.close();
if (tokens.length !== 5 || tokens.some((t, i) => i > 0 && t <= tokens[i - 1]) || busy === null) {
  throw new Error(`tokens ${tokens.join(',')}`);
}
console.log('5 holders one after another, fencing tokens increasing');
