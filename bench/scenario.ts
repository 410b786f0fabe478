/** What every scenario and row receives: the URL of the harness's own redis-server. */
export interface BenchContext {
  url: string;
}

/** One client under test, connected and ready; `op` is called by N concurrent loops. */
export interface Runner {
  /** One operation; `i` is a running index so ops can vary keys without sharing state. */
  op(i: number): Promise<unknown>;
  close(): Promise<void>;
}

/** A line of the table: ours (`peer: false`) get a ratio column against every peer row. */
export interface Row {
  name: string;
  peer: boolean;
  /** Rows compare only within their group (e.g. the same operation); ungrouped rows compare with ungrouped peers. */
  group?: string;
  make(ctx: BenchContext): Promise<Runner>;
  /**
   * How long the next row waits after this one closes, for timers this row's clients left behind
   * to run out: see {@link NODE_REDIS_TIMEOUT_SETTLE_MS}. @default 0
   */
  settleMs?: number;
}

/**
 * The wait after a row that drives a node-redis client with its default command timeout. node-redis 6
 * arms an `AbortSignal.timeout` (5 s) per command and never clears it: a row doing 70k commands/s
 * leaves that many timers firing per second for the next 5 s, which measured the next row 20-30%
 * low (the session scenario's first row of ours, right after the GETEX row).
 */
export const NODE_REDIS_TIMEOUT_SETTLE_MS = 5_500;

export interface Scenario {
  name: string;
  description: string;
  /** In-flight levels to measure each row at; `--inflight` overrides. @default [1, 50] */
  inflight?: number[];
  /** Runs once before any row, e.g. to write the keys the rows read. */
  setup?(ctx: BenchContext): Promise<void>;
  rows: Row[];
}

/** One row measured at one in-flight level. */
export interface RowResult {
  row: string;
  peer: boolean;
  group?: string;
  inflight: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Redis commands the server executed per completed op (from INFO commandstats). */
  commandsPerOp: number;
  /** The bench process's CPU per completed op, µs (absent in results recorded before it was measured). */
  nodeCpuUsPerOp?: number;
  /** The redis-server's CPU per completed op, µs (absent in results recorded before it was measured). */
  redisCpuUsPerOp?: number;
}

export interface ScenarioResult {
  name: string;
  description: string;
  results: RowResult[];
}

/** Identity helper so scenario files get type checking and completion without annotations. */
export function defineScenario(scenario: Scenario): Scenario {
  return scenario;
}
