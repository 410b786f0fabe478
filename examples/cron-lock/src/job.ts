import type { RedisConnection } from '@redis-patterns/lock';
import { createLock } from '@redis-patterns/lock';

/**
 * Where the job's result goes. It keeps the highest fencing token that wrote it and refuses older
 * ones: without this check at the resource, a holder paused past its TTL could still write late.
 */
export interface ReportStore {
  write(day: string, body: string, fencingToken: number): Promise<boolean>;
}

/**
 * The nightly job. Every instance calls it on the same schedule; one runs it, the others skip.
 * Returns what this instance did.
 */
export async function runNightlyReport(
  redis: RedisConnection,
  store: ReportStore,
  day: string,
  buildReport: (signal: AbortSignal) => Promise<string>,
  lockPrefix = 'cron:lock:',
): Promise<'ran' | 'skipped' | 'fenced'> {
  const locks = createLock({ redis, prefix: lockPrefix, ttlMs: 10_000 });
  try {
    const lock = await locks.tryAcquire(`nightly-report:${day}`);
    if (lock === null) return 'skipped'; // another instance has it right now
    await using held = lock; // released at the end of the block, even on a throw
    // Extended while we work; `signal` aborts if the lock is lost anyway (paused process, Redis down).
    const body = await buildReport(held.signal);
    return (await store.write(day, body, held.fencingToken)) ? 'ran' : 'fenced';
  } finally {
    await locks.close();
  }
}
