/**
 * Jobs that report progress, watched by an event subscriber, processed per second end to end.
 * Measured like the `queue` scenario (see its header: in-flight level = worker concurrency, a backlog
 * kept at 20,000 jobs, `cmds/op` = Redis commands per job, adds and event reads included), except
 * that one op is one `completed` event received by the subscriber, not one job finished by the
 * worker: event delivery is inside the measurement, and an event that never arrives is a missing op.
 *
 * Each handler reports progress once (50). A subscriber in the same process, on connections of its
 * own, counts `progress` and `completed` events. When a row closes it waits for the subscriber to
 * catch up (up to 5 s) and prints to stderr how many jobs the worker finished and how many events of
 * each kind arrived, so a lost event shows there.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@redis-patterns/connection';
import { createQueue, createQueueEvents, type Worker as QueueWorker } from '@redis-patterns/queue';
import { QueueEvents as BullQueueEvents, type Worker as BullWorker } from 'bullmq';
import { createClient } from 'redis';
import {
  bullQueue,
  DEFAULT_BACKLOG,
  hostAndPort,
  type QueueSystem,
  startBullWorker,
  startWorker,
  throughputRunner,
} from '../queue-systems.ts';
import { defineScenario, NODE_REDIS_TIMEOUT_SETTLE_MS } from '../scenario.ts';
import { SlotLoops } from '../slot-loops.ts';

/** Entries the events stream keeps: BullMQ's default, given to ours too. */
const EVENT_HISTORY = 10_000;

/** What the subscriber saw, against what the worker did. */
class EventTally {
  /** Jobs the worker completed (its own `completed` event, no stream involved). */
  finished = 0;
  /** `progress` events the subscriber received. */
  progress = 0;
  /** `completed` events the subscriber received. */
  completed = 0;
  /** Called once per `completed` event: the harness's op clock. */
  onCompleted: () => void = () => {};

  sawProgress = () => {
    this.progress++;
  };

  sawCompleted = () => {
    this.completed++;
    this.onCompleted();
  };

  /** Waits (up to 5 s) for the subscriber to see an event of each kind per finished job, then reports. */
  async settle(row: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (this.completed < this.finished || this.progress < this.finished)) {
      await sleep(50);
    }
    const lost = this.completed !== this.finished || this.progress !== this.finished;
    console.error(
      `  queue-progress: ${row}: ${this.finished} jobs finished, ${this.progress} progress and ${this.completed} completed events seen${lost ? ' (MISMATCH)' : ''}`,
    );
  }
}

/** A QueueSystem whose `onDone` is driven by the subscriber's `completed` events. */
function driven(
  system: Omit<QueueSystem, 'consume'> & { consume(concurrency: number): Promise<void> },
  tally: EventTally,
): QueueSystem {
  return {
    ...system,
    async consume(concurrency, onDone) {
      tally.onCompleted = onDone;
      await system.consume(concurrency);
    },
  };
}

async function ours(url: string): Promise<QueueSystem> {
  const redis = await connect({ url });
  const queue = createQueue<{ n: number }>({ redis, name: 'bench-progress', prefix: 'bench:q:' });
  await queue.purge();
  const tally = new EventTally();
  // Switches the queue's event history on (off by default) and reads from its end once resolved.
  const events = await createQueueEvents(queue, { maxLen: EVENT_HISTORY });
  events.on('progress', tally.sawProgress);
  events.on('completed', tally.sawCompleted);
  events.on('gap', (gap) => console.error('queue events: lost the events', gap));
  events.on('error', (error) => console.error('queue events:', error));
  let worker: QueueWorker<{ n: number }> | undefined;
  let n = 0;
  return driven(
    {
      async fill(count) {
        await queue.addBulk(Array.from({ length: count }, () => ({ payload: { n: n++ } })));
      },
      async consume(concurrency) {
        worker = startWorker(
          queue,
          async (job) => {
            await job.progress(50);
          },
          concurrency,
          () => tally.finished++,
        );
      },
      async stopConsuming() {
        await worker?.stop();
        worker = undefined;
      },
      async close() {
        await tally.settle('queue');
        await events.close();
        await queue.purge();
        await redis.close();
      },
    },
    tally,
  );
}

async function bullmq(url: string): Promise<QueueSystem> {
  const connection = { ...hostAndPort(url), maxRetriesPerRequest: null };
  const name = 'bench-bullmq-progress';
  const queue = await bullQueue(name, connection);
  const tally = new EventTally();
  // It reads from the stream's end when it starts: ready before any job runs.
  const events = new BullQueueEvents(name, { connection });
  events.on('progress', tally.sawProgress);
  events.on('completed', tally.sawCompleted);
  events.on('error', (error) => console.error('bullmq queue events:', error));
  await events.waitUntilReady();
  let worker: BullWorker | undefined;
  let n = 0;
  return driven(
    {
      async fill(count) {
        await queue.addBulk(Array.from({ length: count }, () => ({ name: 'job', data: { n: n++ } })));
      },
      async consume(concurrency) {
        worker = startBullWorker(
          name,
          async (job) => {
            await job.updateProgress(50);
          },
          { connection, concurrency },
          () => tally.finished++,
        );
      },
      async stopConsuming() {
        await worker?.close();
        worker = undefined;
      },
      async close() {
        await tally.settle('BullMQ 6.7');
        await events.close();
        await queue.obliterate({ force: true });
        await queue.close();
      },
    },
    tally,
  );
}

/**
 * The bare pattern with the cheapest events there are: LPUSH, then per slot BLMOVE to a processing
 * list, PUBLISH a progress event from the handler, then LREM and PUBLISH a completed event in one
 * round trip; a SUBSCRIBE connection counts the events. A ceiling, not a queue: Pub/Sub drops what
 * is sent while the subscriber is away.
 */
async function bareLoopPublish(url: string): Promise<QueueSystem> {
  const waiting = 'bench:bare:waiting';
  const processing = 'bench:bare:processing';
  const channel = 'bench:bare:events';
  const client = createClient({ url });
  client.on('error', (error) => console.error('bare loop:', error));
  await client.connect();
  await client.del([waiting, processing]);
  const tally = new EventTally();
  const subscriber = client.duplicate();
  subscriber.on('error', (error) => console.error('bare loop subscriber:', error));
  await subscriber.connect();
  await subscriber.subscribe(channel, (message) => {
    if (message.startsWith('p')) tally.sawProgress();
    else tally.sawCompleted();
  });
  const slots = new SlotLoops();
  let n = 0;
  return driven(
    {
      async fill(count) {
        await client.lPush(
          waiting,
          Array.from({ length: count }, () => JSON.stringify({ n: n++ })),
        );
      },
      async consume(concurrency) {
        slots.start(client, 'bare loop slot', concurrency, async (slot) => {
          const job = await slot.blMove(waiting, processing, 'RIGHT', 'LEFT', 1);
          if (job === null) return;
          await client.publish(channel, 'p50');
          // The ack and its event leave in one write (node-redis pipelines a tick's commands).
          await Promise.all([client.lRem(processing, -1, job), client.publish(channel, 'c')]);
          tally.finished++;
        });
      },
      stopConsuming: () => slots.stop(),
      async close() {
        await tally.settle('ceiling');
        await subscriber.close();
        await client.del([waiting, processing]);
        await client.close();
      },
    },
    tally,
  );
}

export default defineScenario({
  name: 'queue-progress',
  description:
    'Jobs that report progress once, processed per second end to end, one op = one completed event seen by a subscriber in the same process (which also counts progress events); in-flight = worker concurrency; backlog 20,000.',
  inflight: [1, 50],
  rows: [
    {
      name: 'BullMQ 6.7',
      peer: true,
      make: async ({ url }) => throughputRunner(await bullmq(url), DEFAULT_BACKLOG),
    },
    {
      name: 'ceiling: LPUSH/BLMOVE/LREM + PUBLISH (node-redis)',
      peer: false,
      settleMs: NODE_REDIS_TIMEOUT_SETTLE_MS,
      make: async ({ url }) => throughputRunner(await bareLoopPublish(url), DEFAULT_BACKLOG),
    },
    {
      name: 'queue',
      peer: false,
      make: async ({ url }) => throughputRunner(await ours(url), DEFAULT_BACKLOG),
    },
  ],
});
