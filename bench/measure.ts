import type { Runner } from './scenario.ts';

/** Latency slots: ~16 MB, enough for 3 s at several hundred thousand ops/s; beyond that we wrap (see below). */
const CAPACITY = 1 << 21;
const latencies = new Float64Array(CAPACITY);

export interface Measurement {
  ops: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  commandsPerOp: number;
}

export interface MeasureOptions {
  inflight: number;
  durationMs: number;
  warmupMs: number;
  /** Total `calls=` over INFO commandstats, read on a connection other than the one under test. */
  readCalls(): Promise<number>;
  /** Commands one readCalls() itself adds to the counters (calibrated once, normally 1). */
  readOverhead: number;
}

/**
 * Runs `inflight` loops that each await op() back to back until `untilMs`. With `record`, each op's
 * latency goes into the shared array; once it is full we overwrite from the start, which keeps a
 * sample of the whole window's tail rather than growing an array (and the GC) mid-measurement.
 */
async function drive(runner: Runner, inflight: number, untilMs: number, record: boolean): Promise<number> {
  let count = 0;
  const loop = async () => {
    while (performance.now() < untilMs) {
      // Claim the index before awaiting, so concurrent loops never pass op() the same i.
      const i = count++;
      const started = performance.now();
      await runner.op(i);
      if (record) latencies[i % CAPACITY] = performance.now() - started;
    }
  };
  await Promise.all(Array.from({ length: inflight }, loop));
  return count;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

export async function measure(runner: Runner, options: MeasureOptions): Promise<Measurement> {
  const { inflight, durationMs, warmupMs, readCalls, readOverhead } = options;
  // Warmup runs to completion first, so none of its ops land in the measured window's commandstats.
  await drive(runner, inflight, performance.now() + warmupMs, false);
  const callsBefore = await readCalls();
  const started = performance.now();
  const ops = await drive(runner, inflight, started + durationMs, true);
  // Elapsed includes the last in-flight ops finishing after the deadline: they count as ops too.
  const elapsedMs = performance.now() - started;
  const callsAfter = await readCalls();
  const sorted = latencies.subarray(0, Math.min(ops, CAPACITY)).sort();
  return {
    ops,
    opsPerSec: (ops * 1000) / elapsedMs,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    commandsPerOp: ops === 0 ? Number.NaN : (callsAfter - callsBefore - readOverhead) / ops,
  };
}

/** Sums `calls=` over every `cmdstat_*` line of `INFO commandstats`. */
export function totalCalls(info: string): number {
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) total += Number(match[1]);
  return total;
}
