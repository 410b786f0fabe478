import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { seededRandom, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Algorithm,
  all,
  createRateLimiter,
  fixedWindow,
  type RateLimiter,
  type RateLimitResult,
  slidingWindowCounter,
  slidingWindowLog,
  tokenBucket,
} from '../src/index.ts';
import { counterModel, fixedModel, gcraModel, logModel, type Model } from './reference-model.ts';
import { serverUs } from './server-times.ts';

vi.mock('../src/result.ts', async (importOriginal) =>
  (await import('./server-times.ts')).recordServerTimes(importOriginal),
);

describe.each(topologies())('rate limiting, exactly as the models decide, on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('rl');
  let n = 0;
  const make = (algorithm: Algorithm, name?: string): RateLimiter =>
    createRateLimiter({ redis, prefix: `${prefix}${n++}:`, algorithm, ...(name ? { name } : {}) });

  beforeAll(async () => {
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis?.close();
  });
  it('checks four algorithms of one identifier together', async () => {
    const limiters = [
      slidingWindowLog({ limit: 5, windowMs: 60_000 }),
      slidingWindowCounter({ limit: 4, windowMs: 86_400_000 }),
      fixedWindow({ limit: 6, windowMs: 60_000 }),
      tokenBucket({ ratePerSec: 0.001, burst: 3 }),
    ].map((algorithm, i) => make(algorithm, `p${i}`));
    const combined = all(limiters);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await combined.limit('four'));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
    expect(results[3]?.policies.map((p) => p.allowed)).toEqual([true, true, true, false]);
    const left = await Promise.all(limiters.map(async (l) => (await l.peek('four')).remaining));
    expect(left).toEqual([2, 1, 3, 0]);
  });

  it.each([
    ['sliding window log', (limit: number) => slidingWindowLog({ limit, windowMs: 60_000 })],
    ['sliding window counter', (limit: number) => slidingWindowCounter({ limit, windowMs: 86_400_000 })],
    ['fixed window', (limit: number) => fixedWindow({ limit, windowMs: 60_000 })],
    ['token bucket (GCRA)', (limit: number) => tokenBucket({ ratePerSec: 0.001, burst: limit })],
  ])('never reports remaining below 0 after the limit was lowered (%s)', async (_, algorithm) => {
    const own = `${prefix}lowered${n++}:`;
    const wide = createRateLimiter({ redis, prefix: own, algorithm: algorithm(5) });
    for (let i = 0; i < 4; i++) expect((await wide.limit('l')).allowed).toBe(true);
    // The same keys under a smaller limit, already exceeded by what the larger one admitted.
    const narrow = createRateLimiter({ redis, prefix: own, algorithm: algorithm(2) });
    for (const result of [await narrow.limit('l'), await narrow.peek('l')]) {
      expect(result).toMatchObject({ allowed: false, remaining: 0 });
      expect(result.policies[0]?.remaining).toBe(0);
    }
  });

  it('peek reports without charging', async () => {
    const limiter = make(slidingWindowLog({ limit: 2, windowMs: 60_000 }));
    for (let i = 0; i < 5; i++)
      expect(await limiter.peek('p')).toMatchObject({ allowed: true, remaining: 2 });
    await limiter.limit('p', { cost: 2 });
    expect(await limiter.peek('p')).toMatchObject({ allowed: false, remaining: 0 });
  });

  const models: Array<[string, (windowMs: number) => Algorithm, (windowMs: number) => Model]> = [
    ['sliding window log', (w) => slidingWindowLog({ limit: 3, windowMs: w }), (w) => logModel(3, w * 1000)],
    [
      'sliding window counter',
      (w) => slidingWindowCounter({ limit: 4, windowMs: w }),
      (w) => counterModel(4, w * 1000),
    ],
    ['fixed window', (w) => fixedWindow({ limit: 3, windowMs: w }), (w) => fixedModel(3, w * 1000)],
    [
      'token bucket (GCRA)',
      (w) => tokenBucket({ ratePerSec: 3000 / w, burst: 3 }),
      (w) => gcraModel(3, (w * 1000) / 3),
    ],
  ];

  it('keeps the log exact for limit() and peek() when many entries leave the window at once', async () => {
    const windowMs = 150;
    const limit = 60;
    const limiter = make(slidingWindowLog({ limit, windowMs }));
    const reference = logModel(limit, windowMs * 1000);
    const random = seededRandom(7);
    let mismatches = 0;
    let refusals = 0;
    let mostLeftAtOnce = 0;
    let live = 0;
    const checkPeek = async (label: string) => {
      const peeked = await limiter.peek('many');
      const at = serverUs(peeked);
      const now = reference.live(at);
      expect({ allowed: peeked.allowed, remaining: peeked.remaining }, label).toEqual({
        allowed: now + 1 <= limit,
        remaining: limit - now,
      });
      return { now, at };
    };
    for (let i = 0; i < 40; i++) {
      // After the pause, every other round a peek meets the expired entries first, else limit() does.
      let firstAt: number | undefined;
      if (i % 2 === 0) firstAt = (await checkPeek(`peek before burst ${i}`)).at;
      // A burst made in one tick (one batch, call order kept), costs 1-8.
      const costs = Array.from({ length: 1 + Math.floor(random() * 6) }, () => 1 + Math.floor(random() * 8));
      const results = await Promise.all(costs.map((cost) => limiter.limit('many', { cost })));
      firstAt ??= serverUs(results[0] as RateLimitResult);
      mostLeftAtOnce = Math.max(mostLeftAtOnce, live - reference.live(firstAt));
      results.forEach((got, j) => {
        const want = reference.decide(serverUs(got), costs[j] as number);
        const { allowed, remaining, resetMs, retryAfterMs } = got;
        if (JSON.stringify({ allowed, remaining, resetMs, retryAfterMs }) !== JSON.stringify(want)) {
          mismatches++;
          console.error('log burst', i, j, { allowed, remaining, resetMs, retryAfterMs }, want);
        }
        if (!got.allowed) refusals++;
      });
      live = (await checkPeek(`peek after burst ${i}`)).now;
      // Mostly short pauses, sometimes one that lets much or all of the log expire.
      await sleep(random() < 0.3 ? windowMs * (0.4 + random()) : random() * 30);
    }
    expect(mismatches).toBe(0);
    expect(refusals, 'the log never filled up').toBeGreaterThan(3);
    expect(mostLeftAtOnce, 'never did many entries leave at once').toBeGreaterThan(16);
  });

  it('decides exactly like a reference model fed the same server times, across window edges', async () => {
    const windowMs = 200;
    await Promise.all(
      models.map(async ([label, algorithm, model], seed) => {
        const limiter = make(algorithm(windowMs));
        const reference = model(windowMs);
        const random = seededRandom(seed + 1);
        let mismatches = 0;
        let refusals = 0;
        let wait = 0;
        for (let i = 0; i < 45; i++) {
          await sleep(wait);
          const cost = random() < 0.2 ? 2 : 1;
          const got = await limiter.limit('edge', { cost });
          const want = reference.decide(serverUs(got), cost);
          const { allowed, remaining, resetMs, retryAfterMs } = got;
          if (JSON.stringify({ allowed, remaining, resetMs, retryAfterMs }) !== JSON.stringify(want)) {
            mismatches++;
            console.error(label, i, { allowed, remaining, resetMs, retryAfterMs }, want);
          }
          if (!got.allowed) refusals++;
          // Aim at the window edge the limiter named, or just before it, or anywhere.
          const r = random();
          wait = !got.allowed && r < 0.6 ? got.retryAfterMs - (r < 0.3 ? 1 : 0) : Math.floor(random() * 70);
        }
        expect(mismatches, label).toBe(0);
        expect(refusals, `${label} was never refused: the sequence did not test the edges`).toBeGreaterThan(
          3,
        );
      }),
    );
  });

  it('keeps the counter within limit × (1 + elapsed share) over every trailing window', async () => {
    const windowMs = 200;
    const limiter = make(slidingWindowCounter({ limit: 5, windowMs }));
    const admitted: number[] = [];
    const random = seededRandom(7);
    for (let i = 0; i < 80; i++) {
      const r = await limiter.limit('bound');
      const now = serverUs(r);
      if (r.allowed) admitted.push(now);
      const windowUs = windowMs * 1000;
      const share = (now % windowUs) / windowUs;
      const trailing = admitted.filter((t) => t > now - windowUs).length;
      const sameWindow = admitted.filter(
        (t) => Math.floor(t / windowUs) === Math.floor(now / windowUs),
      ).length;
      expect(trailing).toBeLessThanOrEqual(Math.floor(5 * (1 + share) + 1e-9));
      expect(sameWindow).toBeLessThanOrEqual(5);
      await sleep(Math.floor(random() * 25));
    }
  });

  it.each(models)(
    'lets a caller that keeps retrying in as soon as its retry-after passes (%s)',
    async (_, algorithm) => {
      const limiter = make(algorithm(300));
      let first = await limiter.limit('retry');
      while (first.allowed) first = await limiter.limit('retry');
      const opensAt = serverUs(first) + first.retryAfterMs * 1000;
      for (let attempt = 0; ; attempt++) {
        await sleep(10);
        const r = await limiter.limit('retry');
        const now = serverUs(r);
        // Refused calls must not push the opening later: the first attempt after it is admitted, and
        // none is admitted early (retryAfterMs is rounded up to the millisecond, hence the 1 ms grace).
        if (now >= opensAt) expect(r.allowed).toBe(true);
        else if (now < opensAt - 1000) expect(r.allowed).toBe(false);
        if (r.allowed) break;
        expect(attempt).toBeLessThan(200);
      }
    },
  );

  it.each(models)(
    'keeps the key exactly as long as its state matters: until resetMs, then gone (%s)',
    async (name, algorithm) => {
      const own = `${prefix}ttl${n++}:`;
      const limiter = createRateLimiter({ redis, prefix: own, algorithm: algorithm(300) });
      const suffix = { 'sliding window log': 'loglist', 'sliding window counter': 'counter' }[name];
      const key = `${own}{ttl}:${suffix ?? (name === 'fixed window' ? 'fixed' : 'gcra')}`;
      const random = seededRandom(7);
      let goneBy = 0;
      for (let i = 0; i < 40; i++) {
        const started = performance.now();
        const r = await limiter.limit('ttl');
        const ttl = Number(await redis.send(['PTTL', key], { key }));
        const elapsed = performance.now() - started;
        if (r.allowed) {
          // Never gone while the state still counts (resetMs is rounded up, PTTL down: 1 ms), and
          // never kept more than roundings longer (resetMs, PTTL and the bucket's extra ms).
          expect(ttl, `call ${i}`).toBeGreaterThanOrEqual(r.resetMs - elapsed - 1);
          expect(ttl, `call ${i}`).toBeLessThanOrEqual(r.resetMs + 3);
          goneBy = performance.now() + r.resetMs;
        }
        await sleep(Math.floor(random() * 40));
      }
      await sleep(Math.max(0, goneBy - performance.now()) + 50);
      expect(await redis.send(['EXISTS', key], { key })).toBe(0);
    },
  );
});
