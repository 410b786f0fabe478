// The table of options.test.ts: every public call given a null or wrong-typed option, with the
// argument its InvalidArgumentError must name, and the objects it is called on.
import { createCache } from '@redis-patterns/cache-aside';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { packByTag } from '@redis-patterns/connection/internal';
import { createLeaderboard, createPeriodicLeaderboard } from '@redis-patterns/leaderboard';
import { createLock } from '@redis-patterns/lock';
import { createQueue, createWorker } from '@redis-patterns/queue';
import {
  all,
  createExpressRateLimit,
  createRateLimiter,
  fixedWindow,
  ipKey,
} from '@redis-patterns/rate-limit';
import { createSessionStore, generateId } from '@redis-patterns/session';
import { createExpressStore } from '@redis-patterns/session/express';
import { createFastifyStore } from '@redis-patterns/session/fastify';
import { topologies, uniquePrefix } from '@redis-patterns/testing';

const [standalone] = topologies();
export const url = standalone?.url as string;
export const p = uniquePrefix('rule');

// The table passes values the types forbid, on purpose.
type Any = any;
type Row = [call: string, argument: string, run: (redis: RedisConnection) => unknown];

/** Valid objects to call methods on; every key they could write starts with `p`. */
export function fixtures(redis: RedisConnection) {
  const sessions = createSessionStore({ redis, prefix: `${p}s:` });
  const queue = createQueue<number>({ redis, prefix: `${p}q:`, name: 'q' });
  const limiter = createRateLimiter({
    redis,
    prefix: `${p}r:`,
    algorithm: fixedWindow({ limit: 5, windowMs: 1_000 }),
  });
  return {
    cache: createCache({ redis, prefix: `${p}c:` }),
    sessions,
    lock: createLock({ redis, prefix: `${p}l:` }),
    limiter,
    queue,
    worker: createWorker(queue, () => {}),
    board: createLeaderboard({ redis, prefix: `${p}b:`, name: 'b' }),
    periodic: createPeriodicLeaderboard({ redis, prefix: `${p}pb:`, name: 'pb', cycle: 'daily' }),
  };
}

export const rows = (f: ReturnType<typeof fixtures>): Row[] => {
  const redis = (f as Any).redis as RedisConnection;
  const load = async () => 1;
  return [
    // connection
    ['connect(null)', 'options', () => connect(null as Any)],
    ['connect({ url: null })', 'url', () => connect({ url: null as Any })],
    ['connect({ tls: null })', 'tls', () => connect({ url, tls: null as Any })],
    ['connect({ reconnect: 5 })', 'reconnect', () => connect({ url, reconnect: 5 as Any })],
    ['connect({ onError: 5 })', 'onError', () => connect({ url, onError: 5 as Any })],
    ['send(args, null)', 'options', () => redis.send(['SET', `${p}x`, '1'], null as Any)],
    ['send(args, { key: null })', 'key', () => redis.send(['SET', `${p}x`, '1'], { key: null as Any })],
    ['packByTag(items, keyOf, 0)', 'max', () => packByTag(['a'], (k) => k, 0)],
    [
      'runScript(…, null)',
      'options',
      () => redis.runScript({ name: 'x', source: 'return 1', sha1: 'x' }, [`${p}x`], [], null as Any),
    ],
    // cache-aside
    ['createCache({ prefix: null })', 'prefix', () => createCache({ redis, prefix: null as Any })],
    [
      'createCache({ jitter: "0.5" })',
      'jitter',
      () => createCache({ redis, prefix: `${p}c:`, jitter: '0.5' as Any }),
    ],
    [
      'createCache({ cacheNull: "no" })',
      'cacheNull',
      () => createCache({ redis, prefix: `${p}c:`, cacheNull: 'no' as Any }),
    ],
    [
      'createCache({ serializer: null })',
      'serializer',
      () => createCache({ redis, prefix: `${p}c:`, serializer: null as Any }),
    ],
    [
      'createCache({ nearCache: 5 })',
      'nearCache',
      () => createCache({ redis, prefix: `${p}c:`, nearCache: 5 as Any }),
    ],
    ['cache.get(k, null)', 'options', () => f.cache.get('k', null as Any)],
    [
      'cache.get(k, { allowStale: "yes" })',
      'allowStale',
      () => f.cache.get('k', { allowStale: 'yes' as Any }),
    ],
    ['cache.has(k, null)', 'options', () => f.cache.has('k', null as Any)],
    ['cache.set(k, v, null)', 'options', () => f.cache.set('k', 1, null as Any)],
    ['cache.set(k, v, { metadata: null })', 'metadata', () => f.cache.set('k', 1, { metadata: null as Any })],
    ['cache.getOrLoad(k, fn, null)', 'options', () => f.cache.getOrLoad('k', load, null as Any)],
    [
      'cache.getOrLoad(k, fn, { ttlMs: null })',
      'ttlMs',
      () => f.cache.getOrLoad('k', load, { ttlMs: null as Any }),
    ],
    ['cache.getMany(keys, null)', 'options', () => f.cache.getMany(['k'], null as Any)],
    ['cache.inspect(k, null)', 'options', () => f.cache.inspect('k', null as Any)],
    // session
    [
      'createSessionStore({ prefix: null })',
      'prefix',
      () => createSessionStore({ redis, prefix: null as Any }),
    ],
    [
      'createSessionStore({ serializer: null })',
      'serializer',
      () => createSessionStore({ redis, serializer: null as Any }),
    ],
    ['sessions.create(data, null)', 'options', () => f.sessions.create({ a: 1 }, null as Any)],
    [
      'sessions.create(data, { userId: null })',
      'userId',
      () => f.sessions.create({ a: 1 }, { userId: null as Any }),
    ],
    [
      'sessions.create(data, { userId: 1020 chars })',
      'userId',
      () => f.sessions.create({ a: 1 }, { userId: 'u'.repeat(1_020) }),
    ],
    ['sessions.regenerate(id, null)', 'options', () => f.sessions.regenerate(generateId(), null as Any)],
    [
      'sessions.regenerate(id, { restartLifetime: "yes" })',
      'restartLifetime',
      () => f.sessions.regenerate(generateId(), { restartLifetime: 'yes' as Any }),
    ],
    ['sessions.destroyAllForUser(u, null)', 'options', () => f.sessions.destroyAllForUser('u', null as Any)],
    ['createExpressStore(sessions, null)', 'options', () => createExpressStore(f.sessions, null as Any)],
    ['createFastifyStore(sessions, null)', 'options', () => createFastifyStore(f.sessions, null as Any)],
    // lock
    ['createLock({ prefix: null })', 'prefix', () => createLock({ redis, prefix: null as Any })],
    [
      'createLock({ retry: null })',
      'retry',
      () => createLock({ redis, prefix: `${p}l:`, retry: null as Any }),
    ],
    [
      'createLock({ fair: "yes" })',
      'fair',
      () => createLock({ redis, prefix: `${p}l:`, fair: 'yes' as Any }),
    ],
    [
      'createLock({ durability: { replicas: 0 } })',
      'durability.replicas',
      () => createLock({ redis, prefix: `${p}l:`, durability: { replicas: 0 } }),
    ],
    ['lock.acquire(name, null)', 'options', () => f.lock.acquire('n', null as Any)],
    ['lock.tryAcquire(name, null)', 'options', () => f.lock.tryAcquire('n', null as Any)],
    ['lock.withLock(name, fn, null)', 'options', () => f.lock.withLock('n', () => 1, null as Any)],
    [
      'lock.withLock(name, fn, { autoExtend: null })',
      'autoExtend',
      () => f.lock.withLock('n', () => 1, { autoExtend: null as Any }),
    ],
    // rate-limit
    [
      'createRateLimiter({ prefix: null })',
      'prefix',
      () =>
        createRateLimiter({
          redis,
          prefix: null as Any,
          algorithm: fixedWindow({ limit: 1, windowMs: 1_000 }),
        }),
    ],
    [
      'createRateLimiter({ commandTimeoutMs: null })',
      'commandTimeoutMs',
      () =>
        createRateLimiter({
          redis,
          commandTimeoutMs: null as Any,
          algorithm: fixedWindow({ limit: 1, windowMs: 1_000 }),
        }),
    ],
    [
      'createRateLimiter({ failMode: null })',
      'failMode',
      () =>
        createRateLimiter({
          redis,
          failMode: null as Any,
          algorithm: fixedWindow({ limit: 1, windowMs: 1_000 }),
        }),
    ],
    ['limiter.limit(id, null)', 'options', () => f.limiter.limit('id', null as Any)],
    ['limiter.limit(id, { cost: null })', 'cost', () => f.limiter.limit('id', { cost: null as Any })],
    ['limiter.peek(id, null)', 'options', () => f.limiter.peek('id', null as Any)],
    ['all(limiters, null)', 'options', () => all([f.limiter], null as Any)],
    [
      'createExpressRateLimit({ limiter, key: null })',
      'key',
      () => createExpressRateLimit({ limiter: f.limiter, key: null as Any }),
    ],
    [
      'createExpressRateLimit({ limiter, cost: 5 })',
      'cost',
      () => createExpressRateLimit({ limiter: f.limiter, cost: 5 as Any }),
    ],
    [
      'createExpressRateLimit({ limiter, allowList: "1.2.3.4" })',
      'allowList',
      () => createExpressRateLimit({ limiter: f.limiter, allowList: '1.2.3.4' as Any }),
    ],
    ['ipKey(ip, null)', 'ipv6Subnet', () => ipKey('::1', null as Any)],
    // queue
    ['createQueue({ prefix: null })', 'prefix', () => createQueue({ redis, name: 'q', prefix: null as Any })],
    [
      'createQueue({ defaultJobOptions: null })',
      'defaultJobOptions',
      () => createQueue({ redis, name: 'q', defaultJobOptions: null as Any }),
    ],
    ['queue.add(payload, null)', 'options', () => f.queue.add(1, null as Any)],
    ['queue.add(payload, { id: null })', 'id', () => f.queue.add(1, { id: null as Any })],
    [
      'queue.addBulk([{ payload, options: { id: null } }])',
      'jobs[0].options.id',
      () => f.queue.addBulk([{ payload: 1, options: { id: null as Any } }]),
    ],
    ['createWorker(queue, fn, null)', 'options', () => createWorker(f.queue, () => {}, null as Any)],
    ['worker.stop(null)', 'options', () => f.worker.stop(null as Any)],
    ['worker.stop({ graceful: "no" })', 'graceful', () => f.worker.stop({ graceful: 'no' as Any })],
    // leaderboard
    [
      'createLeaderboard({ prefix: null })',
      'prefix',
      () => createLeaderboard({ redis, name: 'b', prefix: null as Any }),
    ],
    [
      'createLeaderboard({ order: null })',
      'order',
      () => createLeaderboard({ redis, name: 'b', order: null as Any }),
    ],
    [
      'createLeaderboard({ tieBreakBits: null })',
      'tieBreakBits',
      () => createLeaderboard({ redis, name: 'b', tieBreakBits: null as Any }),
    ],
    ['board.submit(m, s, null)', 'options', () => f.board.submit('m', 1, null as Any)],
    ['board.submit(m, s, { data: null })', 'data', () => f.board.submit('m', 1, { data: null as Any })],
    [
      'board.submit(m, s, { data: 70 KB })',
      'data',
      () => f.board.submit('m', 1, { data: 'x'.repeat(70_000) }),
    ],
    ['board.increment(m, 1, null)', 'options', () => f.board.increment('m', 1, null as Any)],
    ['board.entry(m, null)', 'options', () => f.board.entry('m', null as Any)],
    ['board.top(n, { withData: "yes" })', 'withData', () => f.board.top(3, { withData: 'yes' as Any })],
    ['board.around(m, r, null)', 'options', () => f.board.around('m', 1, null as Any)],
    ['board.scoreRange(a, b, null)', 'options', () => f.board.scoreRange(0, 1, null as Any)],
    ['board.iterate({ batch: null })', 'batch', () => f.board.iterate({ batch: null as Any })],
    ['periodic.aggregate(2, null)', 'options', () => f.periodic.aggregate(2, null as Any)],
    [
      'createPeriodicLeaderboard({ now: 5 })',
      'now',
      () => createPeriodicLeaderboard({ redis, name: 'pb', cycle: 'daily', now: 5 as Any }),
    ],
    // Options renamed to say what they bound: the old name is refused, naming the new one.
    [
      'createCache({ timeoutMs })',
      'timeoutMs',
      () => createCache({ redis, prefix: `${p}c:`, timeoutMs: 500 } as Any),
    ],
    ['cache.get(k, { timeoutMs })', 'timeoutMs', () => f.cache.get('k', { timeoutMs: 500 } as Any)],
    [
      'createRateLimiter({ timeoutMs })',
      'timeoutMs',
      () =>
        createRateLimiter({
          redis,
          algorithm: fixedWindow({ limit: 1, windowMs: 1_000 }),
          timeoutMs: 5,
        } as Any),
    ],
    ['all(limiters, { timeoutMs })', 'timeoutMs', () => all([f.limiter], { timeoutMs: 5 } as Any)],
    [
      'createLock({ retry: { timeoutMs } })',
      'retry.timeoutMs',
      () => createLock({ redis, retry: { timeoutMs: 5 } as Any }),
    ],
    ['lock.acquire(name, { timeoutMs })', 'timeoutMs', () => f.lock.acquire('n', { timeoutMs: 5 } as Any)],
    [
      'lock.withLock(name, fn, { timeoutMs })',
      'timeoutMs',
      () => f.lock.withLock('n', load, { timeoutMs: 5 } as Any),
    ],
    ['worker.stop({ timeoutMs })', 'timeoutMs', () => f.worker.stop({ timeoutMs: 5 } as Any)],
  ];
};
