/**
 * Job queue throughput, end to end: every job is added by a producer, fetched, run (an empty async
 * handler) and acknowledged, in one process against the harness's Redis.
 *
 * How this maps onto the harness (whose rows are "an op per call"): one `op` = one job processed.
 * The harness's in-flight level N becomes the consumer's concurrency: each window starts N loops that
 * call op(0..N-1) in one synchronous burst, so the runner counts that burst and (re)starts its
 * consumer with concurrency N. Each op resolves when the next job completes, so ops/s = jobs/s and
 * `cmds/op` = Redis commands per job, producer's adds included. A producer keeps the backlog at its
 * initial size (20,000 jobs unless the row says otherwise) by adding a chunk whenever a chunk's worth
 * of jobs has been processed. p50/p99 are the gaps between completions, not job latency.
 */
import { bareLoop, beeQueue, bullmq, DEFAULT_BACKLOG, ours, throughputRunner } from '../queue-systems.ts';
import { defineScenario, NODE_REDIS_TIMEOUT_SETTLE_MS } from '../scenario.ts';

export default defineScenario({
  name: 'queue',
  description:
    'Jobs processed per second, end to end (add, fetch, run an empty handler, ack); in-flight = worker concurrency; backlog 20,000 unless noted.',
  inflight: [1, 50],
  rows: [
    {
      name: 'bee-queue 2.0',
      peer: true,
      make: async ({ url }) => throughputRunner(await beeQueue(url), DEFAULT_BACKLOG),
    },
    {
      name: 'BullMQ 6.7',
      peer: true,
      make: async ({ url }) => throughputRunner(await bullmq(url), DEFAULT_BACKLOG),
    },
    {
      // Bare commands, no job data, retries or stall checks: the least a reliable queue can cost.
      name: 'ceiling: LPUSH/BLMOVE/LREM (node-redis)',
      peer: false,
      settleMs: NODE_REDIS_TIMEOUT_SETTLE_MS,
      make: async ({ url }) => throughputRunner(await bareLoop(url), DEFAULT_BACKLOG),
    },
    {
      name: 'queue',
      peer: false,
      make: async ({ url }) => throughputRunner(await ours(url, DEFAULT_BACKLOG), DEFAULT_BACKLOG),
    },
    {
      name: 'queue (backlog 1,000)',
      peer: false,
      make: async ({ url }) => throughputRunner(await ours(url, 1000), 1000),
    },
    {
      name: 'queue (backlog 100,000)',
      peer: false,
      make: async ({ url }) => throughputRunner(await ours(url, 100_000), 100_000),
    },
  ],
});
