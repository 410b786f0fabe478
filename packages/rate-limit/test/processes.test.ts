import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { runWorkers, type WorkerLimiter } from './processes.ts';

const HOUR = 3_600_000;

interface SequenceResult {
  allowed: boolean;
  remaining: number;
  resetMs: number;
  retryAfterMs: number;
  serverTimeMs: number;
  localNow: number;
  error?: string;
}

describe.each(topologies())('rate limiting across processes on $name', ({ url }) => {
  const prefix = uniquePrefix('rl-proc');

  it('admits exactly 100 of 500 calls fired by 4 processes at once, for every exact algorithm', async () => {
    const limiters: WorkerLimiter[] = [
      { prefix: `${prefix}log:`, kind: 'slidingWindowLog', params: { limit: 100, windowMs: 60_000 } },
      { prefix: `${prefix}fw:`, kind: 'fixedWindow', params: { limit: 100, windowMs: 60_000 } },
      { prefix: `${prefix}gcra:`, kind: 'tokenBucket', params: { ratePerSec: 0.01, burst: 100 } },
      { prefix: `${prefix}swc:`, kind: 'slidingWindowCounter', params: { limit: 100, windowMs: 86_400_000 } },
    ];
    const job = { url, mode: 'burst' as const, limiters, identifier: 'shared', calls: 125 };
    const outputs = await runWorkers<Array<{ allowed: number; errors: number }>>([job, job, job, job]);
    for (const [i, limiter] of limiters.entries()) {
      const admitted = outputs.reduce((sum, o) => sum + (o[i]?.allowed ?? 0), 0);
      expect(outputs.every((o) => o[i]?.errors === 0)).toBe(true);
      // The counter is exact within one window; a day-long window makes straddling an edge (and its
      // documented over-admission) practically impossible during a burst.
      expect(admitted, limiter.kind).toBe(100);
    }
  });

  it('gives processes whose clocks are hours apart the decisions of one clock', async () => {
    const limiters: WorkerLimiter[] = [
      { prefix: `${prefix}skew-log:`, kind: 'slidingWindowLog', params: { limit: 10, windowMs: 60_000 } },
      { prefix: `${prefix}skew-fw:`, kind: 'fixedWindow', params: { limit: 10, windowMs: 60_000 } },
      { prefix: `${prefix}skew-gcra:`, kind: 'tokenBucket', params: { ratePerSec: 0.001, burst: 10 } },
      {
        prefix: `${prefix}skew-swc:`,
        kind: 'slidingWindowCounter',
        params: { limit: 10, windowMs: 86_400_000 },
      },
    ];
    const job = (identifier: string, dateOffsetMs: number) => ({
      url,
      mode: 'sequence' as const,
      limiters,
      identifier,
      calls: 7,
      dateOffsetMs,
    });
    // Three hours behind, then three hours ahead, on one identifier; an honest clock on another.
    const [behind] = await runWorkers<SequenceResult[][]>([job('skewed', -3 * HOUR)]);
    const [ahead] = await runWorkers<SequenceResult[][]>([job('skewed', 3 * HOUR)]);
    const [honestFirst] = await runWorkers<SequenceResult[][]>([job('honest', 0)]);
    const [honestSecond] = await runWorkers<SequenceResult[][]>([job('honest', 0)]);
    for (const [i, limiter] of limiters.entries()) {
      const skewed = [...(behind?.[i] ?? []), ...(ahead?.[i] ?? [])];
      const honest = [...(honestFirst?.[i] ?? []), ...(honestSecond?.[i] ?? [])];
      const decisions = (rs: SequenceResult[]) => rs.map((r) => `${r.allowed}:${r.remaining}`);
      expect(skewed.every((r) => r.error === undefined)).toBe(true);
      expect(decisions(skewed), limiter.kind).toEqual(decisions(honest));
      expect(skewed.filter((r) => r.allowed)).toHaveLength(10);
      // The second process is told to wait what is left of the first one's window, not 3 h more or less.
      const refused = skewed.filter((r) => !r.allowed);
      // The counter may send a caller that used up this window past the next window's start, until
      // this window's weight has shrunk enough: up to two windows (one bound failed runs soon after
      // midnight UTC, when the day-long window had barely begun).
      const bound =
        limiter.kind === 'tokenBucket'
          ? 1_000_000
          : limiter.kind === 'slidingWindowCounter'
            ? 2 * 86_400_000
            : 60_000;
      for (const r of refused) expect(r.retryAfterMs).toBeLessThanOrEqual(bound);
      if (limiter.kind !== 'tokenBucket' && limiter.kind !== 'slidingWindowCounter') {
        for (const r of refused) expect(r.retryAfterMs).toBeGreaterThan(30_000);
        for (const r of refused) expect(r.retryAfterMs).toBeLessThanOrEqual(60_000);
      }
      const first = skewed[0] as SequenceResult;
      const last = skewed.at(-1) as SequenceResult;
      expect(last.localNow - first.localNow).toBeGreaterThan(5 * HOUR);
      expect(Math.abs(last.serverTimeMs - first.serverTimeMs)).toBeLessThan(60_000);
    }
  });
});
