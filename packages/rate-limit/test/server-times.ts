import { EPOCH_SECONDS } from '../src/algorithms.ts';
import type { RateLimitResult } from '../src/index.ts';
import type * as ResultModule from '../src/result.ts';

// A result's serverTimeMs is whole ms, but the reference models need the script's own microseconds:
// combine() receives them (ms with a µs fraction) before it floors. A test file that needs them
// mocks ../src/result.ts with recordServerTimes, which records them per result for serverUs.
const exactMs = new WeakMap<object, number>();

/** The factory of `vi.mock('../src/result.ts', ...)`: the real module, with a combine() that records. */
export async function recordServerTimes(importOriginal: <T>() => Promise<T>): Promise<typeof ResultModule> {
  const actual = await importOriginal<typeof ResultModule>();
  const combine: typeof actual.combine = (policies, serverTimeMs) => {
    const result = actual.combine(policies, serverTimeMs);
    exactMs.set(result, serverTimeMs);
    return result;
  };
  return { ...actual, combine };
}

/** Microseconds since the script's epoch at which Redis decided `result`, exactly. */
export function serverUs(result: RateLimitResult): number {
  const ms = exactMs.get(result);
  if (ms === undefined) throw new Error('no server time recorded for this result');
  return Math.round(ms * 1000) - EPOCH_SECONDS * 1e6;
}
