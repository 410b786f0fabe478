/**
 * Prioritized jobs processed per second, end to end, measured like the `queue` scenario (see its
 * header: one op = one job completed, in-flight level = worker concurrency, a backlog kept at 20,000
 * jobs, `cmds/op` = Redis commands per job, adds included). Every job gets a priority drawn from 1..10
 * by the same seeded generator in every row, so each library sorts the same mix.
 *
 * Ours takes `priority` 1..1_000_000 with the higher first; BullMQ takes 1..2_097_151 with the lower
 * first, so its rows get `11 - priority`: the same jobs run first in both.
 */
import { createClient } from 'redis';
import { bullmq, DEFAULT_BACKLOG, ours, type QueueSystem, throughputRunner } from '../queue-systems.ts';
import { defineScenario, NODE_REDIS_TIMEOUT_SETTLE_MS } from '../scenario.ts';
import { SlotLoops } from '../slot-loops.ts';

const TOP_PRIORITY = 10;

/**
 * Priorities 1..10, uniformly, from a fixed seed (mulberry32): every row draws the same sequence,
 * so no library gets an easier mix of priorities by chance.
 */
function priorities(): () => number {
  let state = 0x2545f491;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    return 1 + Math.floor(unit * TOP_PRIORITY);
  };
}

/**
 * The bare pattern: ZADD (highest priority, then oldest, at the lowest score), then per slot
 * BZPOPMIN. A ceiling, not a queue: a job popped by a worker that dies is lost.
 */
async function bareSortedSet(url: string): Promise<QueueSystem> {
  const key = 'bench:bare:prio';
  const client = createClient({ url });
  client.on('error', (error) => console.error('bare sorted set:', error));
  await client.connect();
  await client.del(key);
  const priority = priorities();
  const slots = new SlotLoops();
  let n = 0;
  return {
    async fill(count) {
      const members = Array.from({ length: count }, () => {
        const seq = n++;
        // Exact in a double: (10 - 1) * 2^32 + a sequence below 2^32 stays under 2^53.
        return { score: (TOP_PRIORITY - priority()) * 2 ** 32 + seq, value: JSON.stringify({ n: seq }) };
      });
      await client.zAdd(key, members);
    },
    async consume(concurrency, onDone) {
      const handler = async () => {};
      slots.start(client, 'bare sorted set slot', concurrency, async (slot) => {
        const job = await slot.bzPopMin(key, 1);
        if (job === null) return;
        await handler();
        onDone();
      });
    },
    stopConsuming: () => slots.stop(),
    async close() {
      await client.del(key);
      await client.close();
    },
  };
}

export default defineScenario({
  name: 'queue-priority',
  description:
    'Prioritized jobs processed per second, end to end (add with a priority from 1..10, fetch the highest first, run an empty handler, ack); in-flight = worker concurrency; backlog 20,000.',
  inflight: [1, 50],
  rows: [
    {
      name: 'BullMQ 6.7',
      peer: true,
      make: async ({ url }) => {
        const priority = priorities();
        // BullMQ runs the lowest number first.
        const options = () => ({ priority: TOP_PRIORITY + 1 - priority() });
        return throughputRunner(await bullmq(url, { name: 'bench-bullmq-prio', options }), DEFAULT_BACKLOG);
      },
    },
    {
      name: 'ceiling: ZADD/BZPOPMIN (node-redis)',
      peer: false,
      settleMs: NODE_REDIS_TIMEOUT_SETTLE_MS,
      make: async ({ url }) => throughputRunner(await bareSortedSet(url), DEFAULT_BACKLOG),
    },
    {
      name: 'queue',
      peer: false,
      make: async ({ url }) => {
        const priority = priorities();
        const options = () => ({ priority: priority() });
        const system = await ours(url, DEFAULT_BACKLOG, { name: `bench-prio-${DEFAULT_BACKLOG}`, options });
        return throughputRunner(system, DEFAULT_BACKLOG);
      },
    },
  ],
});
