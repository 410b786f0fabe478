// The conformance suite every pattern runs (see @redis-patterns/testing): the session store.
import { connect, createSessionStore } from '@redis-patterns/session';
import { describeConformance } from '@redis-patterns/testing';

describeConformance({
  name: 'session store',
  connect,
  create: (redis, prefix) => createSessionStore({ redis, prefix }),
  write: (store) => store.create({ n: 1 }, { userId: 'u' }),
  read: async (store) => (await store.listForUser('u')).length,
  badInput: {
    'create(null)': (store) => store.create(null as never),
    'create(a value JSON cannot hold)': (store) => store.create({ n: 1n }),
    'get(null)': (store) => store.get(null as never),
  },
});
