import { connect, type RedisConnection } from '@redis-patterns/connection';
import { seededRandom, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSemaphore, LockLostError, type SemaphorePermit } from '../src/index.ts';

/**
 * The semaphore against a reference model: random tryAcquire (under a limit that changes from call
 * to call), release and expiry steps, and after each one the same answer from both. The model is
 * the specification in a few lines: a grant happens iff fewer live holders than the caller's
 * limit, it takes the lowest slot no live holder has, its token is above every earlier token, an
 * expired holder counts for nothing and its release reports the loss.
 */
interface Held {
  permit: SemaphorePermit;
  expired: boolean;
}

describe.each(topologies())('semaphore against a reference model on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('sem-model');

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it.each([1, 2, 3])('matches the model over 300 random steps (seed %i)', async (seed) => {
    const random = seededRandom(seed);
    const pick = <T>(list: T[]): T | undefined => list[Math.floor(random() * list.length)];
    const semaphore = createSemaphore({ redis, prefix, ttlMs: 60_000, autoExtend: false });
    const name = `model-${seed}`;
    const key = `${prefix}{${name}}`;
    const held: Held[] = [];
    let lastToken = 0;
    const live = () => held.filter((h) => !h.expired);
    for (let step = 0; step < 300; step++) {
      const roll = random();
      if (roll < 0.5) {
        const permits = 1 + Math.floor(random() * 4);
        const used = new Set(live().map((h) => h.permit.slot));
        let slot = 0;
        while (used.has(slot)) slot++;
        const expectGrant = live().length < permits;
        const permit = await semaphore.tryAcquire(name, { permits });
        expect({ step, granted: permit !== null }).toEqual({ step, granted: expectGrant });
        if (permit !== null) {
          expect(permit.slot).toBe(slot);
          expect(permit.fencingToken).toBeGreaterThan(lastToken);
          lastToken = permit.fencingToken;
          held.push({ permit, expired: false });
        }
      } else if (roll < 0.8) {
        const entry = pick(held);
        if (entry === undefined) continue;
        held.splice(held.indexOf(entry), 1);
        const outcome = await entry.permit.release().then(
          () => 'released',
          (err: unknown) => (err instanceof LockLostError ? err.reason : err),
        );
        expect({ step, outcome }).toEqual({ step, outcome: entry.expired ? 'expired' : 'released' });
      } else {
        const entry = pick(live());
        if (entry === undefined) continue;
        // Its TTL runs out: the same state as the time passing, without the wait.
        const unexpired = await redis.send<string[]>(['ZRANGE', key, '(1', '+inf', 'BYSCORE'], { key });
        const member = unexpired.find((m) => m.startsWith(`${entry.permit.slot}:`));
        expect(member).toBeDefined();
        await redis.send(['ZADD', key, 'XX', '1', member as string], { key });
        entry.expired = true;
      }
      expect({ step, holders: await semaphore.holders(name) }).toEqual({ step, holders: live().length });
    }
    for (const entry of held) await entry.permit.release().catch(() => {});
    expect(await semaphore.holders(name)).toBe(0);
    await semaphore.close();
  });
});
