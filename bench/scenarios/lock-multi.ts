import { connect } from '@redis-patterns/connection';
import { createLock } from '@redis-patterns/lock';
import { Redlock } from '@sesamecare-oss/redlock';
import { Redis } from 'ioredis';
import { defineScenario, type Row, type Runner } from '../scenario.ts';

const LOCK_TTL_MS = 10_000;
/** Uncontended ops cycle through this many triples, so in-flight ops never share a name. */
const TRIPLES = 10_000;
/** Contended ops take 3 of these names, listed in a random order. */
const CONTENDED = Array.from({ length: 6 }, (_, i) => `bench:lock-multi:c${i}`);

/** The shape every row measures: take every name of `names` as one hold, run `body`, release. */
type WithLocks = (names: string[], body: () => Promise<void>) => Promise<void>;

const triple = (i: number) => {
  const n = i % TRIPLES;
  return [`bench:lock-multi:u:${n}:a`, `bench:lock-multi:u:${n}:b`, `bench:lock-multi:u:${n}:c`];
};

/** 3 distinct names of CONTENDED, in a random order. */
const contendedTriple = () => [...CONTENDED].sort(() => Math.random() - 0.5).slice(0, 3);

/**
 * Contended: an op holds its 3 names across one round trip (a PING) while others wait for some of
 * them; an in-process check counts any name held by two ops at once and fails the run.
 */
function contended(ping: () => Promise<unknown>, close: () => Promise<void>, label: string) {
  const inside = new Set<string>();
  let overlaps = 0;
  return {
    body: (names: string[]) => async () => {
      for (const n of names) {
        if (inside.has(n)) overlaps++;
        inside.add(n);
      }
      await ping();
      for (const n of names) inside.delete(n);
    },
    async close() {
      await close();
      console.error(`  lock-multi: ${label}: ${overlaps} overlaps`);
      if (overlaps !== 0) throw new Error(`${label}: ${overlaps} names held twice`);
    },
  };
}

/** Ours: acquireAll (one script on a single server), body, release (one script). */
async function ours(url: string) {
  const redis = await connect({ url });
  const locks = createLock({ redis, prefix: '', ttlMs: LOCK_TTL_MS, retry: { acquireTimeoutMs: 60_000 } });
  const withLocks: WithLocks = async (names, body) => {
    const held = await locks.acquireAll(names);
    await body();
    await held.release();
  };
  const close = async () => {
    await locks.close();
    await redis.close();
  };
  return { withLocks, ping: () => redis.ping(), close };
}

/** redlock's multi-resource acquire on one ioredis instance, its defaults, unlimited retries. */
async function redlock(url: string) {
  const redis = new Redis(url);
  redis.on('error', (error) => console.error('ioredis:', error));
  await redis.ping();
  const lock = new Redlock([redis], { retryCount: -1 });
  const withLocks: WithLocks = async (names, body) => {
    const held = await lock.acquire(names, LOCK_TTL_MS);
    await body();
    await held.release();
  };
  return { withLocks, ping: () => redis.ping(), close: async () => void (await redis.quit()) };
}

type Factory = (url: string) => Promise<{
  withLocks: WithLocks;
  ping: () => Promise<unknown>;
  close: () => Promise<void>;
}>;

const rows = (kind: 'uncontended' | 'contended', peer: boolean, name: string, factory: Factory): Row => ({
  name: `${kind}: ${name}`,
  peer,
  group: kind,
  async make({ url }): Promise<Runner> {
    const { withLocks, ping, close } = await factory(url);
    if (kind === 'uncontended') return { op: (i) => withLocks(triple(i), async () => {}), close };
    const check = contended(ping, close, name);
    return {
      op: () => {
        const names = contendedTriple();
        return withLocks(names, check.body(names));
      },
      close: check.close,
    };
  },
});

export default defineScenario({
  name: 'lock-multi',
  description:
    'Several names held as one (all or nothing): uncontended acquire+release of 3 distinct names, and contended: ops take 3 of 6 names in a random order and hold them across one PING. cmds/op = Redis commands per cycle.',
  inflight: [1, 50],
  rows: [
    rows('uncontended', true, 'redlock acquire([a, b, c])', redlock),
    rows('uncontended', false, 'ours acquireAll([a, b, c])', ours),
    rows('contended', true, 'redlock acquire([a, b, c])', redlock),
    rows('contended', false, 'ours acquireAll([a, b, c])', ours),
  ],
});
