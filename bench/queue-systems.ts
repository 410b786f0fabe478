/**
 * The queue libraries the queue scenarios compare (ours, BullMQ, bee-queue and the bare list
 * commands), each as a {@link QueueSystem}, and the runner that keeps one busy with a backlog.
 */
import { connect } from '@redis-patterns/connection';
import {
  createQueue,
  createWorker,
  type JobHandler,
  type JobOptions,
  type Queue,
  type Worker as QueueWorker,
} from '@redis-patterns/queue';
import BeeQueue from 'bee-queue';
import {
  Queue as BullQueue,
  Worker as BullWorker,
  type ConnectionOptions,
  type JobsOptions,
  type Processor,
} from 'bullmq';
import { createClient } from 'redis';
import type { Runner } from './scenario.ts';
import { SlotLoops } from './slot-loops.ts';

/** One queue library under test. */
export interface QueueSystem {
  /** Adds `count` small jobs. */
  fill(count: number): Promise<void>;
  /** Starts consuming with `concurrency`; `onDone` once per job completed. */
  consume(concurrency: number, onDone: () => void): Promise<void>;
  /** Stops consuming, letting in-flight jobs finish. */
  stopConsuming(): Promise<void>;
  /** Removes the queue's keys and closes connections. */
  close(): Promise<void>;
}

export const DEFAULT_BACKLOG = 20_000;

/**
 * A harness runner that keeps `system` busy with a backlog of `backlog` jobs (how, and what a row
 * then measures: the header of scenarios/queue.ts); the queue scenarios all use it.
 */
export async function throughputRunner(system: QueueSystem, backlog: number): Promise<Runner> {
  for (let added = 0; added < backlog; added += 10_000) await system.fill(Math.min(10_000, backlog - added));
  const chunk = Math.min(1000, Math.max(1, Math.floor(backlog / 4)));
  let level = 0;
  let burst = 0;
  let counting = false;
  let banked = 0;
  let sinceRefill = 0;
  let refilling = false;
  const waiters: Array<() => void> = [];
  let reconfigured: Promise<void> = Promise.resolve();
  const onDone = () => {
    if (++sinceRefill >= chunk && !refilling) {
      refilling = true;
      sinceRefill -= chunk;
      system
        .fill(chunk)
        .catch((error: unknown) => console.error('refill:', error))
        .finally(() => {
          refilling = false;
        });
    }
    const waiter = waiters.shift();
    if (waiter) waiter();
    else banked++;
  };
  return {
    op(i) {
      if (i === 0) {
        // A new window: its loops call op(0..N-1) synchronously; count them once the burst is over.
        counting = true;
        burst = 0;
        banked = 0;
        queueMicrotask(() => {
          counting = false;
          if (burst === level) return;
          level = burst;
          reconfigured = reconfigured.then(async () => {
            await system.stopConsuming();
            await system.consume(level, onDone);
          });
        });
      }
      if (counting) burst++;
      if (banked > 0) {
        banked--;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    async close() {
      await reconfigured;
      await system.stopConsuming();
      await system.close();
    },
  };
}

export function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 6379) };
}

/** What a variant of the scenario (queue-priority) changes in the rows: the queue's name, each job's options. */
export interface Variant<O> {
  name: string;
  /** The options of the next job added. */
  options: () => O;
}

/** Our queue as a {@link QueueSystem}; `variant` names the queue and gives each job its options. */
export async function ours(
  url: string,
  backlog: number,
  variant?: Variant<JobOptions>,
): Promise<QueueSystem> {
  const redis = await connect({ url });
  const name = variant?.name ?? `bench-${backlog}`;
  const queue = createQueue<{ n: number }>({ redis, name, prefix: 'bench:q:' });
  await queue.purge();
  let worker: QueueWorker<{ n: number }> | undefined;
  let n = 0;
  return {
    async fill(count) {
      await queue.addBulk(
        Array.from({ length: count }, () =>
          variant === undefined
            ? { payload: { n: n++ } }
            : { payload: { n: n++ }, options: variant.options() },
        ),
      );
    },
    async consume(concurrency, onDone) {
      worker = startWorker(queue, async () => {}, concurrency, onDone);
    },
    async stopConsuming() {
      await worker?.stop();
      worker = undefined;
    },
    async close() {
      await queue.purge();
      await redis.close();
    },
  };
}

/** Our worker as the queue scenarios run it: started, `onCompleted` once per job done, errors printed. */
export function startWorker<T>(
  queue: Queue<T>,
  handler: JobHandler<T>,
  concurrency: number,
  onCompleted: () => void,
): QueueWorker<T> {
  const worker = createWorker(queue, handler, { concurrency });
  worker.on('completed', onCompleted);
  worker.on('error', (error) => console.error('queue worker:', error));
  worker.start();
  return worker;
}

/** A BullMQ worker as the queue scenarios run it (it starts itself): `onCompleted` once per job done, errors printed. */
export function startBullWorker(
  name: string,
  processor: Processor,
  options: { connection: ConnectionOptions; concurrency: number },
  onCompleted: () => void,
): BullWorker {
  const worker = new BullWorker(name, processor, options);
  worker.on('completed', onCompleted);
  worker.on('error', (error) => console.error('bullmq worker:', error));
  return worker;
}

/** A BullMQ queue with the job settings of ours, emptied: 3 attempts with exponential backoff, finished jobs removed. */
export async function bullQueue(name: string, connection: ConnectionOptions): Promise<BullQueue> {
  const queue = new BullQueue(name, {
    connection,
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: true,
    },
  });
  await queue.obliterate({ force: true });
  return queue;
}

/** BullMQ as a {@link QueueSystem}; `variant` names the queue and gives each job its options. */
export async function bullmq(url: string, variant?: Variant<JobsOptions>): Promise<QueueSystem> {
  const connection = { ...hostAndPort(url), maxRetriesPerRequest: null };
  const name = variant?.name ?? 'bench-bullmq';
  const queue = await bullQueue(name, connection);
  let worker: BullWorker | undefined;
  let n = 0;
  return {
    async fill(count) {
      await queue.addBulk(
        Array.from({ length: count }, () =>
          variant === undefined
            ? { name: 'job', data: { n: n++ } }
            : { name: 'job', data: { n: n++ }, opts: variant.options() },
        ),
      );
    },
    async consume(concurrency, onDone) {
      worker = startBullWorker(name, async () => {}, { connection, concurrency }, onDone);
    },
    async stopConsuming() {
      await worker?.close();
      worker = undefined;
    },
    async close() {
      await queue.obliterate({ force: true });
      await queue.close();
    },
  };
}

export async function beeQueue(url: string): Promise<QueueSystem> {
  const name = 'bench-bee';
  // Events off and finished jobs removed: bee-queue's fastest settings, as its own benchmark uses.
  const settings = {
    redis: { url },
    removeOnSuccess: true,
    removeOnFailure: true,
    getEvents: false,
    sendEvents: false,
    storeJobs: false,
  };
  const producer = new BeeQueue<{ n: number }>(name, { ...settings, isWorker: false });
  await producer.ready();
  await producer.destroy();
  let worker: BeeQueue<{ n: number }> | undefined;
  let n = 0;
  return {
    async fill(count) {
      const jobs = Array.from({ length: count }, () =>
        producer.createJob({ n: n++ }).retries(2).backoff('exponential', 1000),
      );
      await producer.saveAll(jobs);
    },
    async consume(concurrency, onDone) {
      // bee-queue allows one process() per Queue object: a new level needs a new object.
      worker = new BeeQueue<{ n: number }>(name, settings);
      worker.on('succeeded', onDone);
      worker.on('error', (error) => console.error('bee-queue worker:', error));
      worker.process(concurrency, async () => {});
      await worker.ready();
    },
    async stopConsuming() {
      await worker?.close(30_000);
      worker = undefined;
    },
    async close() {
      await producer.destroy();
      await producer.close();
    },
  };
}

/** The bare pattern: LPUSH, then per slot BLMOVE to a processing list and LREM after the handler. */
export async function bareLoop(url: string): Promise<QueueSystem> {
  const waiting = 'bench:bare:waiting';
  const processing = 'bench:bare:processing';
  const client = createClient({ url });
  client.on('error', (error) => console.error('bare loop:', error));
  await client.connect();
  await client.del([waiting, processing]);
  const slots = new SlotLoops();
  let n = 0;
  return {
    async fill(count) {
      await client.lPush(
        waiting,
        Array.from({ length: count }, () => JSON.stringify({ n: n++ })),
      );
    },
    async consume(concurrency, onDone) {
      const handler = async () => {};
      slots.start(client, 'bare loop slot', concurrency, async (slot) => {
        const job = await slot.blMove(waiting, processing, 'RIGHT', 'LEFT', 1);
        if (job === null) return;
        await handler();
        await client.lRem(processing, -1, job);
        onDone();
      });
    },
    stopConsuming: () => slots.stop(),
    async close() {
      await client.del([waiting, processing]);
      await client.close();
    },
  };
}
