// The conformance suite every pattern runs (see @redis-patterns/testing): the queue.
import { connect, createQueue } from '@redis-patterns/queue';
import { describeConformance } from '@redis-patterns/testing';

describeConformance({
  name: 'queue',
  connect,
  create: (redis, prefix) => createQueue<{ n: number }>({ redis, prefix, name: 'q' }),
  // Adds are idempotent by id: the suite's repeated writes make one job.
  write: (queue) => queue.add({ n: 1 }, { id: 'j' }),
  read: async (queue) => (await queue.get('j'))?.payload,
  badInput: {
    'add(a payload JSON cannot hold)': (queue) => queue.add({ n: 1n } as never),
    "add(id: '')": (queue) => queue.add({ n: 1 }, { id: '' }),
    'add(delayMs: -1)': (queue) => queue.add({ n: 1 }, { delayMs: -1 }),
  },
});
