import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { seededRandom, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EPOCH_SECONDS } from '../src/algorithms.ts';
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

// A result's serverTimeMs is whole ms, but the reference models need the script's own microseconds:
// combine() receives them (ms with a µs fraction) before it floors, so record them per result there.
const exactMs = vi.hoisted(() => new WeakMap<object, number>());
vi.mock('../src/result.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/result.ts')>();
  const combine: typeof actual.combine = (policies, serverTimeMs) => {
    const result = actual.combine(policies, serverTimeMs);
    exactMs.set(result, serverTimeMs);
    return result;
  };
  return { ...actual, combine };
});

/** Microseconds since the script's epoch at which Redis decided `result`, exactly. */
const serverUs = (result: RateLimitResult) => {
  const ms = exactMs.get(result);
  if (ms === undefined) throw new Error('no server time recorded for this result');
  return Math.round(ms * 1000) - EPOCH_SECONDS * 1e6;
};

/** Exact algorithms at limit 100. The bucket refills 0.01 tokens/s: less than one token during any burst. */
const exact: Array<[string, () => Algorithm]> = [
  ['sliding window log', () => slidingWindowLog({ limit: 100, windowMs: 60_000 })],
  ['fixed window', () => fixedWindow({ limit: 100, windowMs: 60_000 })],
  ['token bucket (GCRA)', () => tokenBucket({ ratePerSec: 0.01, burst: 100 })],
];

describe.each(topologies())('rate limiting on $name', ({ url }) => {
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

  it.each(exact)('admits exactly 100 of 500 concurrent calls with the %s', async (_, algorithm) => {
    const limiter = make(algorithm());
    const results = await Promise.all(Array.from({ length: 500 }, () => limiter.limit('burst')));
    expect(results.filter((r) => r.allowed)).toHaveLength(100);
    expect(results.every((r) => r.error === undefined && r.remaining >= 0)).toBe(true);
    expect(new Set(results.filter((r) => r.allowed).map((r) => r.remaining)).size).toBe(100);
    expect((await limiter.peek('burst')).remaining).toBe(0);
  });

  it.each(exact)(
    'decides calls made in one tick (batched) like the same calls one at a time, with the %s',
    async (_, algorithm) => {
      const together = make(algorithm());
      const alone = make(algorithm());
      // 40 identifiers, costs 1-3, a peek among them: 300 checks sent in one tick.
      const calls = Array.from({ length: 300 }, (_, i) => ({
        id: `id${(i * 7) % 40}`,
        cost: 1 + (i % 3),
        peek: i % 50 === 0,
      }));
      const run = (limiter: RateLimiter, c: (typeof calls)[0]) =>
        c.peek ? limiter.peek(c.id, { cost: c.cost }) : limiter.limit(c.id, { cost: c.cost });
      const batched = await Promise.all(calls.map((c) => run(together, c)));
      const sequential = [];
      for (const c of calls) sequential.push(await run(alone, c));
      const view = (r: { allowed: boolean; remaining: number }) => [r.allowed, r.remaining];
      expect(batched.map(view)).toEqual(sequential.map(view));
      expect(batched.every((r) => r.error === undefined)).toBe(true);
    },
  );

  it('decides each limiter against its own numbers when limiters of one algorithm share a tick', async () => {
    // One connection, one algorithm, four sets of numbers: the tick's checks split by numbers.
    const limiters = [
      make(fixedWindow({ limit: 3, windowMs: 60_000 })),
      make(fixedWindow({ limit: 5, windowMs: 60_000 })),
      make(fixedWindow({ limit: 5, windowMs: 120_000 })),
      make(slidingWindowLog({ limit: 7, windowMs: 60_000 })),
      make(tokenBucket({ ratePerSec: 0.01, burst: 2 })),
    ];
    const ids = ['a', 'b', 'c'];
    // Interleaved: limiter, identifier and peeks alternate within the tick.
    const calls = Array.from({ length: 200 }, (_, i) => ({
      limiter: limiters[i % limiters.length] as RateLimiter,
      id: ids[i % ids.length] as string,
      peek: i % 11 === 0,
    }));
    const results = await Promise.all(
      calls.map((c) => (c.peek ? c.limiter.peek(c.id) : c.limiter.limit(c.id))),
    );
    expect(results.every((r) => r.error === undefined)).toBe(true);
    for (const limiter of limiters) {
      const size = limiter.policies[0]?.limit as number;
      for (const id of ids) {
        const mine = calls
          .map((c, i) => ({ ...c, result: results[i] as RateLimitResult }))
          .filter((c) => c.limiter === limiter && c.id === id);
        const charged = mine.filter((c) => c.result.allowed && !c.peek);
        expect(charged, `${limiter.policies[0]?.algorithm} ${size} ${id}`).toHaveLength(size);
        // Admitted until the limit, refused after: each check saw the ones before it.
        expect(mine.filter((c) => !c.peek).map((c) => c.result.allowed)).toEqual(
          mine.filter((c) => !c.peek).map((_, k) => k < size),
        );
        expect(mine.every((c) => c.result.limit === size)).toBe(true);
        expect((await limiter.peek(id)).remaining).toBe(0);
      }
    }
  });

  it('applies a reset issued before checks of the same tick to them, whichever call they share', async () => {
    const limiter = make(fixedWindow({ limit: 3, windowMs: 60_000 }));
    const ids = Array.from({ length: 30 }, (_, i) => `reset${i}`);
    await Promise.all(ids.map((id) => limiter.limit(id, { cost: 3 })));
    for (let round = 0; round < 5; round++) {
      // Not awaited: every DEL is on the wire before the checks are batched; each check uses the window up again.
      const resets = ids.map((id) => limiter.reset(id));
      const checks = await Promise.all(ids.map((id) => limiter.limit(id, { cost: 3 })));
      await Promise.all(resets);
      expect(checks.map((c) => c.allowed)).toEqual(ids.map(() => true));
    }
  });

  it('fails only the check whose key Redis refuses when checks share a call, and charges the rest once', async () => {
    const own = `${prefix}wrongtype:`;
    const limiter = createRateLimiter({
      redis,
      prefix: own,
      algorithm: fixedWindow({ limit: 5, windowMs: 60_000 }),
      failMode: 'closed',
    });
    // Someone else's string where one identifier's window should be.
    await redis.send(['SET', `${own}{bad}:fixed`, 'not a window'], { key: `${own}{bad}:fixed` });
    const ids = ['w0', 'w1', 'w2', 'bad', 'w3', 'w4', 'w5'];
    const results = await Promise.all(ids.map((id) => limiter.limit(id)));
    for (const [i, id] of ids.entries()) {
      const r = results[i];
      if (id === 'bad') expect(r).toMatchObject({ allowed: false, error: expect.any(Error) });
      else {
        expect(r, id).toMatchObject({ allowed: true, remaining: 4 });
        expect(r?.error, id).toBeUndefined();
      }
    }
    for (const id of ids.filter((id) => id !== 'bad')) expect((await limiter.peek(id)).remaining, id).toBe(4);
  });

  it('admits no more when the server clock has stepped back (state written ahead of now)', async () => {
    const own = `${prefix}clockback:`;
    const windowMs = 60_000;
    const log = createRateLimiter({
      redis,
      prefix: own,
      algorithm: slidingWindowLog({ limit: 5, windowMs }),
    });
    const counter = createRateLimiter({
      redis,
      prefix: own,
      algorithm: slidingWindowCounter({ limit: 5, windowMs }),
    });
    const now = serverUs(await log.peek('back'));
    // What a clock ahead left behind: the log full 10 s from now, the counter's next window used up.
    const logKey = `${own}{back}:loglist`;
    await redis.send(['LPUSH', logKey, ...Array.from({ length: 5 }, () => String(now + 10_000_000))], {
      key: logKey,
    });
    const counterKey = `${own}{back}:counter`;
    const index = Math.floor(now / (windowMs * 1000)) + 1;
    await redis.send(['HSET', counterKey, 'i', String(index), 'c', '5', 'p', '0'], { key: counterKey });
    const logged = await log.limit('back');
    expect(logged).toMatchObject({ allowed: false, remaining: 0 });
    expect(logged.retryAfterMs).toBeGreaterThan(windowMs);
    const counted = await counter.limit('back');
    expect(counted.allowed).toBe(false);
    // Retry is counted from now: the stored window has not even begun by this clock.
    const begins = (index * windowMs * 1000 - serverUs(counted)) / 1000;
    expect(counted.retryAfterMs).toBeGreaterThan(begins + windowMs - 1);
    expect(counted.resetMs).toBeGreaterThan(begins + 2 * windowMs - 1);
    expect(await redis.send(['LLEN', logKey], { key: logKey })).toBe(5);
    expect(await redis.send(['HGET', counterKey, 'c'], { key: counterKey })).toBe('5');
    await redis.send(['DEL', logKey, counterKey], { keys: [logKey, counterKey] });
  });

  it('opens a fresh counter window when windowMs grows on the same prefix', async () => {
    const own = `${prefix}regrow:`;
    const short = createRateLimiter({
      redis,
      prefix: own,
      algorithm: slidingWindowCounter({ limit: 2, windowMs: 60_000 }),
    });
    await short.limit('grow');
    await short.limit('grow');
    expect((await short.limit('grow')).allowed).toBe(false);
    // The stored window index counts minutes; the new limiter counts hours (a far smaller index).
    const long = createRateLimiter({
      redis,
      prefix: own,
      algorithm: slidingWindowCounter({ limit: 2, windowMs: 3_600_000 }),
    });
    const first = await long.limit('grow');
    expect(first).toMatchObject({ allowed: true, remaining: 1 });
    expect(first.resetMs).toBeLessThanOrEqual(2 * 3_600_000);
  });

  it('keeps the sliding window counter within its documented bound under 500 concurrent calls', async () => {
    const limiter = make(slidingWindowCounter({ limit: 100, windowMs: 60_000 }));
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 500 }, () => limiter.limit('burst')));
    const burstMs = performance.now() - started;
    const admitted = results.filter((r) => r.allowed).length;
    // Within one window the counter is exact; a burst straddling a window edge may admit up to
    // limit × (share of the new window elapsed) more: below one call for a burst this short.
    expect(admitted).toBeGreaterThanOrEqual(100);
    expect(admitted).toBeLessThanOrEqual(100 + Math.floor((100 * burstMs) / 60_000));
  });

  it.each([
    ['sliding window log', () => slidingWindowLog({ limit: 12, windowMs: 60_000 })],
    ['sliding window counter', () => slidingWindowCounter({ limit: 12, windowMs: 86_400_000 })],
    ['fixed window', () => fixedWindow({ limit: 12, windowMs: 60_000 })],
    ['token bucket (GCRA)', () => tokenBucket({ ratePerSec: 0.001, burst: 12 })],
  ])(
    'charges cost > 1 whole or not at all, and refuses cost > limit with a typed error (%s)',
    async (_, algorithm) => {
      const limiter = make(algorithm());
      expect(await limiter.limit('c', { cost: 5 })).toMatchObject({ allowed: true, remaining: 7 });
      expect(await limiter.limit('c', { cost: 5 })).toMatchObject({ allowed: true, remaining: 2 });
      const refused = await limiter.limit('c', { cost: 5 });
      expect(refused).toMatchObject({ allowed: false, remaining: 2 });
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(await limiter.limit('c', { cost: 2 })).toMatchObject({ allowed: true, remaining: 0 });
      await expect(limiter.limit('c', { cost: 13 })).rejects.toMatchObject({
        name: 'InvalidArgumentError',
        argument: 'cost',
      });
      await limiter.reset('c');
      expect(await limiter.peek('c', { cost: 12 })).toMatchObject({ allowed: true, remaining: 12 });
    },
  );

  it('records a sliding-log cost of thousands of units in one call (no Lua stack overflow)', async () => {
    const limiter = make(slidingWindowLog({ limit: 20_000, windowMs: 60_000 }));
    const first = await limiter.limit('big', { cost: 9_000 });
    expect(first).toMatchObject({ allowed: true, remaining: 11_000 });
    expect(first.error).toBeUndefined();
    expect(await limiter.limit('big', { cost: 11_000 })).toMatchObject({ allowed: true, remaining: 0 });
    expect(await limiter.limit('big')).toMatchObject({ allowed: false });
  });

  it('charges nothing to any limit when one of several refuses, on one hash slot', async () => {
    const perSecond = createRateLimiter({
      redis,
      prefix: `${prefix}sec:`,
      name: 'per-second',
      algorithm: fixedWindow({ limit: 2, windowMs: 1_500 }),
    });
    const perHour = createRateLimiter({
      redis,
      prefix: `${prefix}hour:`,
      name: 'per-hour',
      algorithm: slidingWindowLog({ limit: 3, windowMs: 3_600_000 }),
    });
    const both = all([perSecond, perHour]);
    expect(both.policies.map((p) => p.name)).toEqual(['per-second', 'per-hour']);
    expect((await both.limit('k')).allowed).toBe(true);
    expect((await both.limit('k')).allowed).toBe(true);
    const third = await both.limit('k');
    expect(third).toMatchObject({ allowed: false, limit: 2 });
    expect(third.policies.map((p) => p.allowed)).toEqual([false, true]);
    // The hour limit was not charged for the refused call.
    expect((await perHour.peek('k')).remaining).toBe(1);

    await sleep(third.retryAfterMs + 5);
    expect((await both.limit('k')).allowed).toBe(true);
    const fifth = await both.limit('k');
    expect(fifth).toMatchObject({ allowed: false, limit: 3 });
    expect(fifth.retryAfterMs).toBeGreaterThan(3_500_000);
    // ...and the second limit was not charged when the hour limit refused.
    expect((await perSecond.peek('k')).remaining).toBe(1);

    await both.reset('k');
    expect((await perHour.peek('k')).remaining).toBe(3);
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
