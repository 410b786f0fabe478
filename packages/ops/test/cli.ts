import { fileURLToPath } from 'node:url';
import { assertBuilt, startChild } from '@redis-patterns/testing';

/** The built bin: the tests run what users run. */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/** What one run of the bin did. */
export interface CliRun {
  /** Exit code (null if a signal ended it). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, in ms. */
  ms: number;
}

/** Runs `redis-patterns ...args` to its end, with a stdin that is a pipe (not a terminal). */
export async function cli(args: readonly string[]): Promise<CliRun> {
  assertBuilt(new URL('../dist/bin.js', import.meta.url), 'ops');
  const started = Date.now();
  const child = startChild(BIN, args);
  child.process.stdin?.end();
  const exit = await child.exited;
  return {
    code: exit.code,
    stdout: child.lines.join('\n'),
    stderr: child.stderr,
    ms: Date.now() - started,
  };
}

/** The stdout of a `--json` run, parsed; throws with the run's stderr when it failed. */
export function parsed<T = any>(run: CliRun): T {
  if (run.code !== 0) throw new Error(`exit ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}
