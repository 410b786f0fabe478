import { createLock, type LockHandle } from '@redis-patterns/lock';
import { type DemoScenario, expectThat } from './scenario.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const lockDemo: DemoScenario = {
  name: 'lock',
  title: 'Lock: one holder at a time, fencing tokens in grant order',
  async run({ redis, log }) {
    const prefix = `demo:${process.pid}:lock:`;
    const locks = createLock({ redis, prefix, ttlMs: 5_000 });

    // 20 contenders want the same lock at once; each notes its grant while it holds the lock.
    let inside = 0;
    let overlaps = 0;
    const grants: Array<{ contender: number; token: number }> = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, contender) =>
        locks.withLock('nightly-report', async (_signal, { fencingToken }) => {
          if (++inside > 1) overlaps++;
          grants.push({ contender, token: fencingToken });
          await redis.ping(); // some real work while holding the lock
          inside--;
        }),
      ),
    );
    log(`20 contenders took "nightly-report" one after another. Grant order (contender → fencing token):`);
    log(grants.map((g) => `#${g.contender}→${g.token}`).join('  '));
    // Say what the numbers are: readers of older output (where failed attempts took tokens too, so
    // #0→1 #1→22) took a gap for a fault. A gap now means a grant that no caller received.
    const first = grants[0]?.token ?? 0;
    const last = grants.at(-1)?.token ?? 0;
    const unseen = last - first + 1 - grants.length;
    log(
      `A token counts the grants of "nightly-report" (one INCR per grant, none for a failed attempt): ` +
        (unseen === 0
          ? `${first}–${last}, no gaps.`
          : `${first}–${last}; the ${unseen} missing were granted but never reached a caller, and given back.`),
    );
    const rising = grants.every((g, i) => i === 0 || g.token > (grants[i - 1]?.token ?? 0));
    log(`Tokens strictly increasing: ${rising}; two holders at once: ${overlaps} times.`);
    expectThat(grants.length === 20, `${grants.length} grants, expected 20`);
    expectThat(rising, 'fencing tokens did not increase in grant order');
    expectThat(overlaps === 0, `${overlaps} overlapping critical sections`);

    // Why the token matters: a holder that stalls past its TTL loses the lock without knowing it.
    // The resource keeps the highest token it has seen and refuses writes carrying an older one.
    let highestSeen = 0;
    const write = (who: string, token: number) => {
      if (token < highestSeen)
        return `${who}'s write with token ${token} refused (already saw ${highestSeen})`;
      highestSeen = token;
      return `${who}'s write with token ${token} accepted`;
    };
    const slow = createLock({ redis, prefix, ttlMs: 200, autoExtend: false });
    const stalled = await slow.acquire('invoice-42');
    await sleep(400); // a GC pause or a stuck call: the 200 ms TTL runs out
    const fresh = (await locks.tryAcquire('invoice-42')) as LockHandle;
    expectThat(fresh !== null, 'the expired lock was not free');
    log(write('The new holder', fresh.fencingToken));
    const late = write('The stalled holder', stalled.fencingToken);
    log(late);
    expectThat(late.includes('refused'), 'the stale write was accepted');
    const releaseError = await stalled.release().catch((err: unknown) => err);
    log(`The stalled holder's release says: ${releaseError instanceof Error ? releaseError.name : 'ok'}`);
    expectThat(releaseError instanceof Error, 'releasing a lost lock did not report the loss');
    expectThat(
      await locks.isLocked('invoice-42'),
      "the stalled holder's release deleted the new owner's lock",
    );
    await fresh.release();

    await Promise.all([locks.close(), slow.close()]);
    // Fencing counters never expire (tokens must keep rising); the demo's own may go.
    for (const name of ['nightly-report', 'invoice-42']) {
      const fence = `${prefix}{${name}}:fence`;
      await redis.send(['PEXPIRE', fence, '60000'], { key: fence });
    }
  },
};
