import { connect } from '@redis-patterns/connection';
import { createSemaphore } from '@redis-patterns/lock';
import { Redis } from 'ioredis';
import { Semaphore } from 'redis-semaphore';
import { defineScenario, type Row, type Runner } from '../scenario.ts';

const TTL_MS = 10_000;
/** Every row admits this many holders per name. */
const PERMITS = 10;
/** Distinct names cycle through this many, so in-flight ops never share one and keys stay bounded. */
const NAMES = 10_000;
const SHARED = 'bench:sem:shared';

/** The shape every row measures: take a permit of `name`, release it. */
type Cycle = (name: string) => Promise<void>;

/** Ours: acquire (one script: purge expired, count, ZADD, INCR the fence), release (one script: ZREM + SPUBLISH). */
async function ours(url: string) {
  const redis = await connect({ url });
  const semaphore = createSemaphore({
    redis,
    prefix: '',
    permits: PERMITS,
    ttlMs: TTL_MS,
    retry: { acquireTimeoutMs: 60_000 },
  });
  const cycle: Cycle = async (name) => {
    const permit = await semaphore.acquire(name);
    await permit.release();
  };
  const close = async () => {
    await semaphore.close();
    await redis.close();
  };
  return { cycle, close };
}

/** redis-semaphore Semaphore on ioredis, its defaults (poll every 10 ms, refresh at 80% of the TTL). */
async function peer(url: string) {
  const redis = new Redis(url);
  redis.on('error', (error) => console.error('ioredis:', error));
  await redis.ping();
  const cycle: Cycle = async (name) => {
    const semaphore = new Semaphore(redis, name, PERMITS, { lockTimeout: TTL_MS, acquireTimeout: 60_000 });
    await semaphore.acquire();
    await semaphore.release();
  };
  return { cycle, close: async () => void (await redis.quit()) };
}

type Factory = (url: string) => Promise<{ cycle: Cycle; close: () => Promise<void> }>;

const row = (kind: 'distinct names' | 'one name', isPeer: boolean, name: string, factory: Factory): Row => ({
  name: `${kind}: ${name}`,
  peer: isPeer,
  group: kind,
  async make({ url }) {
    const { cycle, close } = await factory(url);
    return {
      op: (i) => cycle(kind === 'one name' ? SHARED : `bench:sem:u:${i % NAMES}`),
      close,
    } satisfies Runner;
  },
});

export default defineScenario({
  name: 'lock-semaphore',
  description: `Counting semaphore, ${PERMITS} permits per name: acquire+release cycles on distinct names (uncontended), and on one name (at 50 in flight, 50 callers share ${PERMITS} permits). cmds/op = Redis commands per cycle.`,
  inflight: [1, 50],
  rows: [
    row('distinct names', true, 'redis-semaphore', peer),
    row('distinct names', false, 'ours', ours),
    row('one name', true, 'redis-semaphore', peer),
    row('one name', false, 'ours', ours),
  ],
});
