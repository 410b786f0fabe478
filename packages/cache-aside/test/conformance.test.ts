// The conformance suite every pattern runs (see @redis-patterns/testing): the cache.
import { connect, createCache } from '@redis-patterns/cache-aside';
import { describeConformance } from '@redis-patterns/testing';

describeConformance({
  name: 'cache',
  connect,
  create: (redis, prefix, boundMs) => createCache({ redis, prefix, commandTimeoutMs: boundMs }),
  write: (cache) => cache.set('k', { n: 1 }),
  read: (cache) => cache.get('k'),
  badInput: {
    'set(null key)': (cache) => cache.set(null as never, 1),
    'set(ttlMs: -1)': (cache) => cache.set('k', 1, { ttlMs: -1 }),
    "get('')": (cache) => cache.get(''),
  },
});
