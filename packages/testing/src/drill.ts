import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startCluster } from './cluster.ts';
import { failOverSlot } from './cluster-failover.ts';
import { startSentinelGroup } from './sentinel-group.ts';

/** A failover drill: a pattern under load while the master that serves it is killed. */
export interface DrillOptions<C> {
  /**
   * `cluster`: 3 masters with a replica each; the master owning `key`'s slot is SIGKILLed, a replica
   * promoted, then the old master restarted (it rejoins as a replica). `sentinel`: a master, one
   * replica and one sentinel; the master is SIGKILLed, then restarted (Sentinel demotes it).
   */
  topology: 'cluster' | 'sentinel';
  /** The key whose master fails (Cluster). */
  key: string;
  /** Connects to `url` and creates what the operations use. */
  setup(url: string): Promise<C>;
  /** One call under load; `n` counts calls from 0. Its outcome is recorded. */
  operation(context: C, n: number): Promise<unknown>;
  /** Calls kept in flight. @default 8 */
  concurrency?: number;
  /** Load before the kill. @default 800 */
  beforeMs?: number;
  /** Load after the failover (and the old master's return) completed. @default 1500 */
  afterMs?: number;
  /** Runs after the load, before `teardown`, with the context still open. */
  check?(context: C, report: DrillReport): Promise<void>;
  teardown(context: C): Promise<void>;
}

/** What the calls of a drill did. */
export interface DrillReport {
  calls: number;
  succeeded: number;
  /** Failures by `code` (`ERR_CONNECTION`, `ERR_TIMEOUT`, ...), or by `untyped: <name>: <message>`. */
  failures: Record<string, number>;
  /** The slowest call, ms: a call that outlives its bound shows here. */
  slowestMs: number;
  /**
   * The longest this process's event loop was stalled during the load, ms (a timer firing late by
   * that much). No call can be answered sooner than its process runs: on a loaded machine a bound
   * on `slowestMs` allows for it, and a product that blocked the loop itself would show here.
   */
  stalledMs: number;
  /** From the kill until the first success after which no call failed, ms. */
  healedAfterMs: number;
  /** From the kill until the replica was promoted (as the harness saw it), ms. */
  promotedAfterMs: number;
  /** When the drill set out to kill the master, on the `performance.now()` clock. */
  killedAt: number;
  /**
   * When the killed master's process was seen to exit, on the same clock. A write acknowledged
   * shortly before may be lost (replication is asynchronous); the master answered nothing after.
   * Replies already in flight may still be read a few ms later: the event loop orders the exit and
   * the socket's data as they come, not as they happened.
   */
  diedAt: number;
}

/**
 * Runs `operation` under load on a fresh Cluster or Sentinel group, kills the master serving it,
 * waits until the failover and the old master's return are complete, keeps the load on a while,
 * and reports what the calls did. Every call's outcome is recorded; none may hang (a call still
 * pending 30 s after the load stopped fails the drill).
 */
export async function failoverDrill<C>(options: DrillOptions<C>): Promise<DrillReport> {
  const { beforeMs = 800, afterMs = 1_500, concurrency = 8 } = options;
  const deployment = await startFailoverTarget(options.topology);
  let context: C | undefined;
  try {
    context = await options.setup(deployment.url);
    const ctx = context;
    const report = { calls: 0, succeeded: 0, failures: {} as Record<string, number>, slowestMs: 0 };
    let killedAt = Number.POSITIVE_INFINITY;
    let lastFailureAt = 0;
    let healedAt = Number.POSITIVE_INFINITY;
    let running = true;
    const loop = async () => {
      while (running) {
        const n = report.calls++;
        const started = performance.now();
        try {
          await options.operation(ctx, n);
          report.succeeded++;
          if (started > lastFailureAt && started > killedAt && healedAt === Number.POSITIVE_INFINITY)
            healedAt = started;
        } catch (err) {
          const kind = codeOf(err);
          report.failures[kind] = (report.failures[kind] ?? 0) + 1;
          lastFailureAt = performance.now();
          healedAt = Number.POSITIVE_INFINITY;
          // A failing call returns at once: pace the retries as a caller would.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        report.slowestMs = Math.max(report.slowestMs, performance.now() - started);
        // A call answered without I/O (a fail-open fallback) must not starve the timers and sockets.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const stalls = monitorEventLoopDelay({ resolution: 10 });
    stalls.enable();
    const loops = Array.from({ length: concurrency }, () => loop());
    await sleep(beforeMs);
    killedAt = performance.now();
    const { promotedAfterMs, diedAt } = await deployment.failover(options.key);
    await sleep(afterMs);
    running = false;
    const settled = Promise.all(loops);
    const hung = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error('a call was still pending 30 s after the load stopped')),
        30_000,
      ).unref(),
    );
    await Promise.race([settled, hung]);
    stalls.disable();
    const full: DrillReport = {
      ...report,
      // The histogram counts ns beyond the sampling interval.
      stalledMs: Math.round(stalls.max / 1e6),
      healedAfterMs: Math.round(healedAt - killedAt),
      promotedAfterMs,
      killedAt,
      diedAt,
    };
    await options.check?.(ctx, full);
    return full;
  } finally {
    if (context !== undefined) await options.teardown(context).catch(() => {});
    await deployment.stop();
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_')) return code;
  const error = err instanceof Error ? err : new Error(String(err));
  return `untyped: ${error.name}: ${error.message}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A Cluster or Sentinel group whose master can be failed over (see {@link DrillOptions.topology}). */
export interface FailoverTarget {
  url: string;
  /**
   * Kills the master serving `key`, waits for the promotion and the old master's return; resolves
   * with the ms from the kill to the promotion, and when the killed process was seen to exit.
   */
  failover(key: string): Promise<{ promotedAfterMs: number; diedAt: number }>;
  stop(): Promise<void>;
}

/** Starts what {@link failoverDrill} fails over, for tests that drive the failover themselves. */
export async function startFailoverTarget(
  topology: DrillOptions<unknown>['topology'],
): Promise<FailoverTarget> {
  if (topology === 'cluster') {
    const cluster = await startCluster({ replicasPerMaster: 1 });
    const hosts = cluster.rootNodes.map((node) => new URL(node.url).host).join(',');
    return {
      url: `redis://${hosts}?cluster=true`,
      failover: async (key) => failOverSlot(cluster, key),
      stop: () => cluster.stop(),
    };
  }
  const group = await startSentinelGroup();
  return {
    url: group.url,
    failover: async () => {
      const { promotedAfterMs, diedAt } = await group.failover({ mode: 'kill' });
      return { promotedAfterMs, diedAt: diedAt as number };
    },
    stop: () => group.stop(),
  };
}
