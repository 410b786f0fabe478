import { connect } from '@redis-patterns/connection';
import { createLock } from '@redis-patterns/lock';
import { Redlock } from '@sesamecare-oss/redlock';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { Mutex } from 'redis-semaphore';
import { defineScenario, type Row, type Runner } from '../scenario.ts';

const LOCK_TTL_MS = 10_000;
/** Uncontended names cycle through this many, so in-flight ops never share one and keys stay bounded. */
const NAMES = 10_000;
const CONTENDED = 'bench:lock:contended';
/** One counter per row: rows stay open side by side across rounds, and each checks its own count. */
const counterKey = (label: string) => `bench:lock:counter:${label}`;

/** The shape every row measures: take a lock on `name`, run `body`, release. */
type WithLock = (name: string, body: () => Promise<void>) => Promise<void>;

async function ioredis(url: string): Promise<Redis> {
  const redis = new Redis(url);
  redis.on('error', (error) => console.error('ioredis:', error));
  await redis.ping();
  return redis;
}

/**
 * Contended: every op takes the one shared lock and does a read-modify-write of one counter (GET,
 * then SET +1) through a separate plain connection, so a lost update would show. close() checks
 * the counter against the ops done and fails the run if any increment was lost.
 */
async function contended(url: string, label: string, withLock: WithLock, close: () => Promise<void>) {
  const counterClient = createClient({ url, commandOptions: { timeout: 0 } });
  await counterClient.connect();
  const COUNTER = counterKey(label);
  const start = Number((await counterClient.get(COUNTER)) ?? 0);
  let done = 0;
  const increment = async () => {
    const value = Number((await counterClient.get(COUNTER)) ?? 0);
    await counterClient.set(COUNTER, String(value + 1));
  };
  return {
    async op() {
      await withLock(CONTENDED, increment);
      done++;
    },
    async close() {
      const lost = start + done - Number((await counterClient.get(COUNTER)) ?? 0);
      console.error(`  lock: ${label}: ${done} increments, ${lost} lost updates`);
      await counterClient.close();
      await close();
      if (lost !== 0) throw new Error(`${label} lost ${lost} of ${done} updates`);
    },
  } satisfies Runner;
}

const uncontended = (withLock: WithLock, close: () => Promise<void>): Runner => ({
  op: (i) => withLock(`bench:lock:u:${i % NAMES}`, async () => {}),
  close,
});

/** Ours: acquire (a SET NX PX + INCR script), body, release (WATCH/GET, MULTI DEL + SPUBLISH). */
async function ours(url: string, isolationPoolSize?: number, fair = false) {
  const redis = await connect({ url, ...(isolationPoolSize ? { isolationPoolSize } : {}) });
  const locks = createLock({
    redis,
    prefix: '',
    ttlMs: LOCK_TTL_MS,
    retry: { acquireTimeoutMs: 60_000 },
    fair,
  });
  const withLock: WithLock = async (name, body) => {
    const handle = await locks.acquire(name);
    await body();
    await handle.release();
  };
  const close = async () => {
    await locks.close();
    await redis.close();
  };
  return { withLock, close };
}

/** redlock on one ioredis instance, its defaults (poll every 200 ms + up to 100 ms jitter), unlimited retries. */
async function redlock(url: string) {
  const redis = await ioredis(url);
  const lock = new Redlock([redis], { retryCount: -1 });
  const withLock: WithLock = async (name, body) => {
    const held = await lock.acquire([name], LOCK_TTL_MS);
    await body();
    await held.release();
  };
  return { withLock, close: async () => void (await redis.quit()) };
}

/** redis-semaphore Mutex on ioredis, its defaults (poll every 10 ms, refresh at 80% of the TTL). */
async function semaphore(url: string) {
  const redis = await ioredis(url);
  const withLock: WithLock = async (name, body) => {
    const mutex = new Mutex(redis, name, { lockTimeout: LOCK_TTL_MS, acquireTimeout: 60_000 });
    await mutex.acquire();
    await body();
    await mutex.release();
  };
  return { withLock, close: async () => void (await redis.quit()) };
}

/**
 * Not a lock: an in-process promise chain, so only the critical section (GET, then SET) limits the
 * rate. No distributed lock can beat it here; it is the ceiling of the contended rows.
 */
async function inProcess() {
  let tail: Promise<unknown> = Promise.resolve();
  const withLock: WithLock = (_name, body) => {
    const run = tail.then(body);
    tail = run.catch(() => {});
    return run;
  };
  return { withLock, close: async () => {} };
}

type Factory = (url: string) => Promise<{ withLock: WithLock; close: () => Promise<void> }>;

const rows = (kind: 'uncontended' | 'contended', peer: boolean, name: string, factory: Factory): Row => ({
  name: `${kind}: ${name}`,
  peer,
  group: kind,
  async make({ url }) {
    const { withLock, close } = await factory(url);
    return kind === 'uncontended' ? uncontended(withLock, close) : contended(url, name, withLock, close);
  },
});

export default defineScenario({
  name: 'lock',
  description:
    'Uncontended acquire+release of distinct names, and contended: N workers increment one counter (GET, SET) under one lock; the contended figure is the 20-in-flight row. cmds/op = Redis commands per cycle.',
  inflight: [1, 20, 50],
  rows: [
    rows('uncontended', true, 'redlock', redlock),
    rows('uncontended', true, 'redis-semaphore', semaphore),
    rows('uncontended', false, 'ours', (url) => ours(url)),
    rows('uncontended', false, 'ours (isolationPoolSize 64)', (url) => ours(url, 64)),
    rows('contended', true, 'redlock', redlock),
    rows('contended', true, 'redis-semaphore', semaphore),
    rows('contended', false, 'ours', (url) => ours(url)),
    rows('contended', false, 'ours (fair: strict FIFO)', (url) => ours(url, undefined, true)),
    rows('contended', false, 'ceiling: in-process mutex (no Redis lock)', () => inProcess()),
  ],
});
