/**
 * OpenTelemetry of the lock (`createLock`): a `lock <op>` span per public call when a tracer
 * records, `redis_patterns.lock.wait.duration` per acquisition attempt, `redis_patterns.lock.hold.duration`
 * per released hold, and `redis_patterns.lock.lost` per loss. Lock names go in span attributes,
 * never in metric labels. Without `@opentelemetry/api` installed, each costs one no-op call.
 */
import { createRequire } from 'node:module';
import { type TelemetryAttributes, type TelemetrySpan, telemetry } from '@redis-patterns/connection/internal';
import type { LockLossReason } from './errors.js';
import type { DistributedLock } from './lock.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const otel = telemetry('@redis-patterns/lock', version);

const waitDuration = otel.histogram('redis_patterns.lock.wait.duration', {
  description:
    'How long acquire() and tryAcquire() calls waited, by outcome: acquired, not_acquired or error.',
  unit: 's',
});
const holdDuration = otel.histogram('redis_patterns.lock.hold.duration', {
  description: 'How long a lock was held, from its grant to the end of its release.',
  unit: 's',
});
const lost = otel.counter('redis_patterns.lock.lost', {
  description: 'Locks this process learnt it had lost, by reason: expired, taken or unconfirmed.',
  unit: '{lock}',
});

const OUTCOME = {
  acquired: Object.freeze({ outcome: 'acquired' }),
  not_acquired: Object.freeze({ outcome: 'not_acquired' }),
  error: Object.freeze({ outcome: 'error' }),
};
const RELEASE_ATTRIBUTES = otel.operation('release');

/** Records a hold of `grantedAt` (a `performance.now()` reading) until now. */
export function recordHold(grantedAt: number): void {
  holdDuration((performance.now() - grantedAt) / 1000);
}

const REASON: Record<LockLossReason, TelemetryAttributes> = {
  expired: Object.freeze({ reason: 'expired' }),
  taken: Object.freeze({ reason: 'taken' }),
  unconfirmed: Object.freeze({ reason: 'unconfirmed' }),
  released: Object.freeze({ reason: 'released' }),
};

/** Counts one loss. */
export function countLost(reason: LockLossReason): void {
  lost(1, REASON[reason]);
}

/** Runs a handle's release in a `lock release` span. */
export function tracedRelease(name: string, release: () => Promise<void>): Promise<void> {
  return otel.span('lock release', RELEASE_ATTRIBUTES, (span) => {
    span?.setAttribute('redis_patterns.lock.name', name);
    return release();
  });
}

type Operation = Exclude<keyof DistributedLock, 'close' | typeof Symbol.asyncDispose>;

/** The span attributes of each operation, built once. */

/** Sets the lock name (or names) on a recording span. */
function named(span: TelemetrySpan | undefined, name: unknown): void {
  if (span === undefined) return;
  if (typeof name === 'string') span.setAttribute('redis_patterns.lock.name', name);
  else if (Array.isArray(name)) span.setAttribute('redis_patterns.lock.name_count', name.length);
}

/** Times one acquisition attempt and records its outcome. */
async function timed<H>(attempt: () => Promise<H>, span: TelemetrySpan | undefined): Promise<H> {
  const started = performance.now();
  try {
    const handle = await attempt();
    const outcome = handle === null ? OUTCOME.not_acquired : OUTCOME.acquired;
    waitDuration((performance.now() - started) / 1000, outcome);
    span?.setAttribute('redis_patterns.lock.acquired', handle !== null);
    return handle;
  } catch (err) {
    const timedOut = (err as { code?: unknown })?.code === 'ERR_TIMEOUT';
    waitDuration((performance.now() - started) / 1000, timedOut ? OUTCOME.not_acquired : OUTCOME.error);
    throw err;
  }
}

/** `lock` with every public operation traced and every acquisition timed. */
export function instrumentLock(lock: DistributedLock): DistributedLock {
  const span = <T>(operation: Operation, name: unknown, fn: (s: TelemetrySpan | undefined) => Promise<T>) =>
    otel.span(`lock ${operation}`, otel.operation(operation), (s) => {
      named(s, name);
      return fn(s);
    });
  return {
    acquire: (name, options) => span('acquire', name, (s) => timed(() => lock.acquire(name, options), s)),
    tryAcquire: (name, options) =>
      span('tryAcquire', name, (s) => timed(() => lock.tryAcquire(name, options), s)),
    withLock: (name, fn, options) => span('withLock', name, () => lock.withLock(name, fn, options)),
    acquireAll: (names, options) =>
      span('acquireAll', names, (s) => timed(() => lock.acquireAll(names, options), s)),
    tryAcquireAll: (names, options) =>
      span('tryAcquireAll', names, (s) => timed(() => lock.tryAcquireAll(names, options), s)),
    withLocks: (names, fn, options) => span('withLocks', names, () => lock.withLocks(names, fn, options)),
    isLocked: (name) => span('isLocked', name, () => lock.isLocked(name)),
    forceRelease: (name) => span('forceRelease', name, () => lock.forceRelease(name)),
    close: () => lock.close(),
    [Symbol.asyncDispose]: () => lock.close(),
  };
}
