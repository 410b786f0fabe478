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
  /** This process's CPU (user + system) per completed op, µs: the client library's cost. */
  nodeCpuUsPerOp: number;
  /** The redis-server's CPU (user + system, from `INFO cpu`) per completed op, µs. */
  redisCpuUsPerOp: number;
}

export interface MeasureOptions {
  inflight: number;
  durationMs: number;
  warmupMs: number;
  /** Total `calls=` over INFO commandstats, read on a connection other than the one under test. */
  readCalls(): Promise<number>;
  /** Commands one readCalls() itself adds to the counters (calibrated once, normally 1). */
  readOverhead: number;
  /** The server's `used_cpu_user` + `used_cpu_sys`, in µs, read on that same other connection. */
  readServerCpu(): Promise<number>;
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
  const { inflight, durationMs, warmupMs, readCalls, readOverhead, readServerCpu } = options;
  // Warmup runs to completion first, so none of its ops land in the measured window's commandstats.
  await drive(runner, inflight, performance.now() + warmupMs, false);
  // The CPU reads sit outside the commandstats window, so they never count as commands of the op.
  const serverBefore = await readServerCpu();
  const callsBefore = await readCalls();
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  const ops = await drive(runner, inflight, started + durationMs, true);
  // Elapsed includes the last in-flight ops finishing after the deadline: they count as ops too.
  const elapsedMs = performance.now() - started;
  const node = process.cpuUsage(nodeBefore);
  const callsAfter = await readCalls();
  // The two INFO commandstats reads inside the CPU window add a few µs in all, spread over every op.
  const serverAfter = await readServerCpu();
  const sorted = latencies.subarray(0, Math.min(ops, CAPACITY)).sort();
  return {
    ops,
    opsPerSec: (ops * 1000) / elapsedMs,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    commandsPerOp: ops === 0 ? Number.NaN : (callsAfter - callsBefore - readOverhead) / ops,
    nodeCpuUsPerOp: ops === 0 ? Number.NaN : (node.user + node.system) / ops,
    redisCpuUsPerOp: ops === 0 ? Number.NaN : (serverAfter - serverBefore) / ops,
  };
}

/** Sums `calls=` over every `cmdstat_*` line of `INFO commandstats`. */
export function totalCalls(info: string): number {
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) total += Number(match[1]);
  return total;
}

/** `used_cpu_user` + `used_cpu_sys` of `INFO cpu` (seconds, to microsecond precision) in µs. */
export function serverCpuMicros(info: string): number {
  const field = (name: string) =>
    Number(info.match(new RegExp(`^${name}:([0-9.]+)`, 'm'))?.[1] ?? Number.NaN);
  return Math.round((field('used_cpu_user') + field('used_cpu_sys')) * 1e6);
}
