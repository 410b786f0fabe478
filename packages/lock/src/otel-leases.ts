/**
 * OpenTelemetry of the semaphore, the read/write lock and the inspector, in the style of the
 * lock's (see `otel.ts`): `semaphore <op>`, `rwlock <op>` and `lock inspect.<op>` spans, and the
 * shared wait, hold and loss metrics labelled `kind: semaphore`, `read` or `write`.
 */
import type { LockInspector } from './inspect.js';
import { spans, timed } from './otel.js';
import type { DistributedReadWriteLock } from './rw-lock.js';
import type { DistributedSemaphore } from './semaphore.js';

const semaphoreSpan = spans('semaphore');
const rwSpan = spans('rwlock');
const inspectSpan = spans('lock');

/** `semaphore` with every public operation traced and every acquisition timed. */
export function instrumentSemaphore(semaphore: DistributedSemaphore): DistributedSemaphore {
  const span = semaphoreSpan;
  return {
    acquire: (name, options) =>
      span('acquire', name, (s) => timed(() => semaphore.acquire(name, options), s, 'semaphore')),
    tryAcquire: (name, options) =>
      span('tryAcquire', name, (s) => timed(() => semaphore.tryAcquire(name, options), s, 'semaphore')),
    withPermit: (name, fn, options) =>
      span('withPermit', name, () => semaphore.withPermit(name, fn, options)),
    holders: (name) => span('holders', name, () => semaphore.holders(name)),
    close: () => semaphore.close(),
    [Symbol.asyncDispose]: () => semaphore.close(),
  };
}

/** `rw` with every public operation traced and every acquisition timed. */
export function instrumentReadWriteLock(rw: DistributedReadWriteLock): DistributedReadWriteLock {
  const span = rwSpan;
  return {
    acquireRead: (name, options) =>
      span('acquireRead', name, (s) => timed(() => rw.acquireRead(name, options), s, 'read')),
    acquireWrite: (name, options) =>
      span('acquireWrite', name, (s) => timed(() => rw.acquireWrite(name, options), s, 'write')),
    tryAcquireRead: (name, options) =>
      span('tryAcquireRead', name, (s) => timed(() => rw.tryAcquireRead(name, options), s, 'read')),
    tryAcquireWrite: (name, options) =>
      span('tryAcquireWrite', name, (s) => timed(() => rw.tryAcquireWrite(name, options), s, 'write')),
    withReadLock: (name, fn, options) => span('withReadLock', name, () => rw.withReadLock(name, fn, options)),
    withWriteLock: (name, fn, options) =>
      span('withWriteLock', name, () => rw.withWriteLock(name, fn, options)),
    state: (name) => span('state', name, () => rw.state(name)),
    close: () => rw.close(),
    [Symbol.asyncDispose]: () => rw.close(),
  };
}

/** `inspector` with every call but `ping` and `close` in a `lock inspect.<method>` span. */
export function instrumentLockInspector(inspector: LockInspector): LockInspector {
  const span = inspectSpan;
  return {
    ...inspector,
    list: (options) => span('inspect.list', undefined, () => inspector.list(options)),
    get: (name) => span('inspect.get', name, () => inspector.get(name)),
    forceRelease: (name) => span('inspect.forceRelease', name, () => inspector.forceRelease(name)),
    forceReleaseHolder: (name, owner) =>
      span('inspect.forceReleaseHolder', name, () => inspector.forceReleaseHolder(name, owner)),
  };
}
