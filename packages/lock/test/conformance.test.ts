// The conformance suite every pattern runs (see @redis-patterns/testing): the lock.
import { connect, createLock } from '@redis-patterns/lock';
import { describeConformance } from '@redis-patterns/testing';

describeConformance({
  name: 'lock',
  connect,
  create: (redis, prefix, boundMs) => createLock({ redis, prefix, retry: { acquireTimeoutMs: boundMs } }),
  // One attempt: a second write finds the lock held and resolves null at once.
  write: (lock) => lock.tryAcquire('n'),
  read: (lock) => lock.isLocked('n'),
  badInput: {
    "acquire('')": (lock) => lock.acquire(''),
    'acquire(ttlMs: 0)': (lock) => lock.acquire('n', { ttlMs: 0 }),
    'isLocked(null)': (lock) => lock.isLocked(null as never),
  },
});
