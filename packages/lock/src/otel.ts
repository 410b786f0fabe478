/**
 * OpenTelemetry of the lock package: a `<kind> <op>` span per public call when a tracer records
 * (`lock acquire`, `semaphore acquire`, `rwlock acquireRead`, ...),
 * `redis_patterns.lock.wait.duration` per acquisition attempt, `redis_patterns.lock.hold.duration`
 * per released hold, and `redis_patterns.lock.lost` per loss, each labelled by the kind of grant.
 * Lock names go in span attributes, never in metric labels. Without `@opentelemetry/api`
 * installed, each costs one no-op call.
 */
import { createRequire } from 'node:module';
import { type TelemetryAttributes, type TelemetrySpan, telemetry } from '@redis-patterns/connection/internal';
import type { LockLossReason } from './errors.js';
import type { DistributedLock } from './lock.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const otel = telemetry('@redis-patterns/lock', version);

const waitDuration = otel.histogram('redis_patterns.lock.wait.duration', {
  description:
    'How long acquisition calls waited, by kind (lock, semaphore, read, write) and outcome: acquired, not_acquired or error.',
  unit: 's',
});
const holdDuration = otel.histogram('redis_patterns.lock.hold.duration', {
  description: 'How long a grant was held, by kind, from its grant to the end of its release.',
  unit: 's',
});
const lost = otel.counter('redis_patterns.lock.lost', {
  description: 'Grants this process learnt it had lost, by kind and reason: expired, taken or unconfirmed.',
  unit: '{lock}',
});

/** What was granted: a lock (one name or several), a semaphore permit, a read or a write lock. */
export type GrantKind = 'lock' | 'semaphore' | 'read' | 'write';
const KINDS: readonly GrantKind[] = ['lock', 'semaphore', 'read', 'write'];
type Outcome = 'acquired' | 'not_acquired' | 'error';
const OUTCOMES: readonly Outcome[] = ['acquired', 'not_acquired', 'error'];
const REASONS: readonly LockLossReason[] = ['expired', 'taken', 'unconfirmed', 'released'];

/** One frozen label object per combination: the label sets stay bounded. */
function labels<V extends string>(
  key: string,
  values: readonly V[],
): Record<GrantKind, Record<V, TelemetryAttributes>> {
  const table = {} as Record<GrantKind, Record<V, TelemetryAttributes>>;
  for (const kind of KINDS) {
    const row = {} as Record<V, TelemetryAttributes>;
    for (const value of values) row[value] = Object.freeze({ kind, [key]: value });
    table[kind] = row;
  }
  return table;
}
const OUTCOME = labels('outcome', OUTCOMES);
const REASON = labels('reason', REASONS);
const HOLD: Record<GrantKind, TelemetryAttributes> = {
  lock: Object.freeze({ kind: 'lock' }),
  semaphore: Object.freeze({ kind: 'semaphore' }),
  read: Object.freeze({ kind: 'read' }),
  write: Object.freeze({ kind: 'write' }),
};

/** The span name prefix of each kind. */
const SPAN_PREFIX: Record<GrantKind, string> = {
  lock: 'lock',
  semaphore: 'semaphore',
  read: 'rwlock',
  write: 'rwlock',
};
const RELEASE_ATTRIBUTES = otel.operation('release');

/** Records a hold of `grantedAt` (a `performance.now()` reading) until now. */
export function recordHold(grantedAt: number, kind: GrantKind = 'lock'): void {
  holdDuration((performance.now() - grantedAt) / 1000, HOLD[kind]);
}

/** Counts one loss. */
export function countLost(reason: LockLossReason, kind: GrantKind = 'lock'): void {
  lost(1, REASON[kind][reason]);
}

/** Runs a handle's release in a `<kind> release` span. */
export function tracedRelease(
  name: string | readonly string[],
  release: () => Promise<void>,
  kind: GrantKind = 'lock',
): Promise<void> {
  return otel.span(`${SPAN_PREFIX[kind]} release`, RELEASE_ATTRIBUTES, (span) => {
    named(span, name);
    if (span !== undefined && kind !== 'lock' && kind !== 'semaphore')
      span.setAttribute('redis_patterns.lock.mode', kind);
    return release();
  });
}

/** Sets the lock name (or the count of names) on a recording span. */
export function named(span: TelemetrySpan | undefined, name: unknown): void {
  if (span === undefined) return;
  if (typeof name === 'string') span.setAttribute('redis_patterns.lock.name', name);
  else if (Array.isArray(name)) span.setAttribute('redis_patterns.lock.name_count', name.length);
}

/** Times one acquisition attempt and records its outcome. */
export async function timed<H>(
  attempt: () => Promise<H>,
  span: TelemetrySpan | undefined,
  kind: GrantKind = 'lock',
): Promise<H> {
  const started = performance.now();
  const outcomes = OUTCOME[kind];
  try {
    const handle = await attempt();
    waitDuration(
      (performance.now() - started) / 1000,
      handle === null ? outcomes.not_acquired : outcomes.acquired,
    );
    span?.setAttribute('redis_patterns.lock.acquired', handle !== null);
    return handle;
  } catch (err) {
    const timedOut = (err as { code?: unknown })?.code === 'ERR_TIMEOUT';
    waitDuration((performance.now() - started) / 1000, timedOut ? outcomes.not_acquired : outcomes.error);
    throw err;
  }
}

/** A tracer of `<prefix> <operation>` spans that name the lock (or count the names). */
export function spans(prefix: string) {
  return <T>(operation: string, name: unknown, fn: (s: TelemetrySpan | undefined) => Promise<T>) =>
    otel.span(`${prefix} ${operation}`, otel.operation(operation), (s) => {
      named(s, name);
      return fn(s);
    });
}

const lockSpan = spans('lock');

/** `lock` with every public operation traced and every acquisition timed. */
export function instrumentLock(lock: DistributedLock): DistributedLock {
  const span = lockSpan;
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
