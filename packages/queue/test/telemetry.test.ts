import { fileURLToPath } from 'node:url';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { startChild, type Topology, topologies, uniquePrefix } from '@redis-patterns/testing';
import {
  exportedOnRegistration,
  type OtelHarness,
  type Point,
  registerOtel,
} from '@redis-patterns/testing/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, createWorker, type JobHandler, type Queue } from '../src/index.ts';
import { sleep, waitFor } from './helpers.ts';

// A worker process on the built package, with an SDK of its own.
const fixture = fileURLToPath(new URL('./fixtures/otel-worker-child.mjs', import.meta.url));

const sumOf = (points: Point[], match: Record<string, unknown>) =>
  points
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + (p.count ?? p.value), 0);

describe('queue telemetry without an SDK', () => {
  it('records nothing and stores no trace context when no provider is registered', async () => {
    const url = (topologies()[0] as Topology).url;
    const redis = await connect({ url, commandTimeoutMs: 5_000 });
    const prefix = uniquePrefix('queue-otel-none');
    const queue = createQueue<{ n: number }>({ redis, prefix, name: 'none' });
    try {
      await queue.add({ n: 1 }, { id: 'a' });
      const key = `${prefix}{none}:job:a`;
      expect(await redis.send(['HGET', key, 'tc'], { key })).toBeNull();
      let ran = false;
      const worker = createWorker(queue, async () => {
        ran = true;
      });
      worker.start();
      await waitFor(() => ran, 'the job to run');
      await worker.stop();
      expect(
        await exportedOnRegistration(['redis_patterns.queue.jobs', 'messaging.process.duration']),
      ).toEqual({ spans: [], points: [] });
    } finally {
      await queue.purge();
      await redis.close();
    }
  });
});

describe.each(topologies())('queue telemetry on $name', ({ url }) => {
  let redis: RedisConnection;
  let otel: OtelHarness;
  const prefix = uniquePrefix('queue-otel');
  let n = 0;

  beforeAll(async () => {
    otel = registerOtel();
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
    await otel?.shutdown();
  });

  const fresh = () => {
    const name = `t${++n}`;
    const queue = createQueue<{ n: number }>({ redis, prefix, name });
    const field = (id: string, f: string) => {
      const key = `${prefix}{${name}}:job:${id}`;
      return redis.send<string | null>(['HGET', key, f], { key });
    };
    return { name, queue, field };
  };

  /** Runs a worker until `done` settles the jobs it waits for, then stops it. */
  async function work(queue: Queue<{ n: number }>, handler: JobHandler<{ n: number }>, until: () => boolean) {
    const worker = createWorker(queue, handler, { pollIntervalMs: 100 });
    worker.on('error', () => {});
    worker.start();
    try {
      await waitFor(until, 'the jobs to settle', 10_000);
    } finally {
      await worker.stop({ drainTimeoutMs: 2_000 });
    }
  }

  it('traces add and addBulk as producer spans and stores their trace context with the jobs', async () => {
    const { name, queue, field } = fresh();
    otel.resetSpans();
    await otel.traced(async () => {
      await queue.add({ n: 1 }, { id: 'one' });
      await queue.addBulk([{ payload: { n: 2 } }, { payload: { n: 3 }, options: { delayMs: 60_000 } }]);
    });
    const [single, bulk] = otel.spans(`send ${name}`);
    expect(single?.kind).toBe(SpanKind.PRODUCER);
    expect(single?.attributes).toEqual({
      'messaging.system': 'redis_patterns',
      'messaging.destination.name': name,
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.message.id': 'one',
    });
    expect(bulk?.attributes['messaging.batch.message_count']).toBe(2);
    expect(bulk?.attributes['messaging.message.id']).toBeUndefined();
    // The stored context names the send span, so that the job's run joins its trace.
    const stored = JSON.parse((await field('one', 'tc')) ?? '{}') as Record<string, string>;
    const { traceId, spanId } = single?.spanContext() ?? {};
    expect(stored.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    expect(Number(await field('one', 't'))).toBeGreaterThan(Date.now() - 60_000);
    const sent = await otel.points('messaging.client.sent.messages');
    expect(sumOf(sent, { 'messaging.destination.name': name })).toBe(3);
    await queue.purge();
  });

  it('writes no trace context and starts no send span outside a recording span', async () => {
    const { name, queue, field } = fresh();
    otel.resetSpans();
    await queue.add({ n: 1 }, { id: 'plain' });
    // Inside a trace that is not sampled: the span does not record.
    const unsampled = trace.wrapSpanContext({
      traceId: '1'.repeat(32),
      spanId: '2'.repeat(16),
      traceFlags: 0,
    });
    await context.with(trace.setSpan(context.active(), unsampled), () =>
      queue.add({ n: 2 }, { id: 'unsampled' }),
    );
    expect(otel.spans(`send ${name}`)).toEqual([]);
    expect(await field('plain', 'tc')).toBeNull();
    expect(await field('unsampled', 'tc')).toBeNull();
    // The runnable time is still kept, for the lag metric.
    expect(await field('plain', 't')).not.toBeNull();
    await queue.purge();
  });

  it('runs a traced job in a consumer span, child of its send span and linked to it', async () => {
    const { name, queue } = fresh();
    otel.resetSpans();
    await otel.traced(() => queue.add({ n: 1 }, { id: 'job' }));
    const [send] = otel.spans(`send ${name}`);
    let done = false;
    await work(
      queue,
      async () => {
        // A span the handler starts is a child of the process span.
        trace.getTracer('test').startSpan('handler work').end();
        done = true;
      },
      () => done && otel.spans(`process ${name}`).length === 1,
    );
    const [processed] = otel.spans(`process ${name}`);
    const [inner] = otel.spans('handler work');
    expect(processed?.kind).toBe(SpanKind.CONSUMER);
    expect(processed?.spanContext().traceId).toBe(send?.spanContext().traceId);
    expect(processed?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    expect(processed?.links.map((l) => l.context.spanId)).toEqual([send?.spanContext().spanId]);
    expect(processed?.attributes).toMatchObject({
      'messaging.system': 'redis_patterns',
      'messaging.destination.name': name,
      'messaging.operation.name': 'process',
      'messaging.operation.type': 'process',
      'messaging.message.id': 'job',
      'redis_patterns.queue.job.attempt': 1,
      'redis_patterns.queue.job.outcome': 'completed',
    });
    expect(inner?.parentSpanContext?.spanId).toBe(processed?.spanContext().spanId);
    const consumed = await otel.points('messaging.client.consumed.messages');
    expect(sumOf(consumed, { 'messaging.destination.name': name })).toBe(1);
    await queue.purge();
  });

  it('starts a root consumer span for a job added outside any trace', async () => {
    const { name, queue } = fresh();
    otel.resetSpans();
    await queue.add({ n: 1 }, { id: 'untraced' });
    await work(
      queue,
      async () => {},
      () => otel.spans(`process ${name}`).length === 1,
    );
    const [processed] = otel.spans(`process ${name}`);
    expect(processed?.parentSpanContext).toBeUndefined();
    expect(processed?.links).toEqual([]);
    expect(processed?.attributes['messaging.message.id']).toBe('untraced');
    await queue.purge();
  });

  it('records failures, retries and dead jobs on spans and in the outcome and duration metrics', async () => {
    const { name, queue } = fresh();
    otel.resetSpans();
    await otel.traced(async () => {
      await queue.add({ n: 1 }, { id: 'flaky', attempts: 2, backoff: { type: 'fixed', delayMs: 1 } });
      await queue.add({ n: 2 }, { id: 'doomed', attempts: 1 });
    });
    const runs = new Map<string, number>();
    await work(
      queue,
      async ({ id }) => {
        runs.set(id, (runs.get(id) ?? 0) + 1);
        if (id === 'doomed' || runs.get(id) === 1) throw new TypeError(`${id} failed`);
      },
      () => otel.spans(`process ${name}`).length === 3,
    );
    await waitFor(async () => {
      const jobs = await otel.points('redis_patterns.queue.jobs');
      return sumOf(jobs, { 'messaging.destination.name': name }) === 3;
    }, 'three recorded outcomes');
    const spans = otel.spans(`process ${name}`);
    const outcome = (id: string) =>
      spans
        .filter((s) => s.attributes['messaging.message.id'] === id)
        .map((s) => [
          s.attributes['redis_patterns.queue.job.attempt'],
          s.attributes['redis_patterns.queue.job.outcome'],
        ]);
    expect(outcome('flaky')).toEqual([
      [1, 'retried'],
      [2, 'completed'],
    ]);
    expect(outcome('doomed')).toEqual([[1, 'dead']]);
    const failed = spans.filter((s) => s.status.code === SpanStatusCode.ERROR);
    expect(failed).toHaveLength(2);
    expect(failed.every((s) => s.attributes['error.type'] === 'TypeError')).toBe(true);
    expect(failed.every((s) => s.events.some((e) => e.name === 'exception'))).toBe(true);
    const jobs = await otel.points('redis_patterns.queue.jobs');
    for (const [label, count] of [
      ['completed', 1],
      ['retried', 1],
      ['dead', 1],
    ] as const) {
      expect(sumOf(jobs, { 'messaging.destination.name': name, outcome: label })).toBe(count);
    }
    const durations = await otel.points('messaging.process.duration');
    expect(sumOf(durations, { 'messaging.destination.name': name, 'error.type': 'TypeError' })).toBe(2);
    expect(sumOf(durations, { 'messaging.destination.name': name })).toBe(3);
    await queue.purge();
  });

  it('records the lag of a job from when it became runnable to when a worker started it', async () => {
    const { name, queue } = fresh();
    await queue.add({ n: 1 }, { id: 'waited' });
    await sleep(300);
    let done = false;
    await work(
      queue,
      async () => {
        done = true;
      },
      () => done,
    );
    const lag = (await otel.points('redis_patterns.queue.job.lag')).find(
      (p) => p.attributes['messaging.destination.name'] === name,
    );
    expect(lag?.count).toBe(1);
    expect(lag?.value).toBeGreaterThanOrEqual(0.29);
    expect(lag?.value).toBeLessThan(5);
    await queue.purge();
  });

  it('continues the producer trace in a worker of another process', async () => {
    const { name, queue } = fresh();
    otel.resetSpans();
    await otel.traced(() => queue.add({ n: 1 }, { id: 'far' }));
    const [send] = otel.spans(`send ${name}`);
    const child = startChild(fixture, [JSON.stringify({ url, name, prefix })], { stderr: 'inherit' });
    try {
      await child.line('READY', 15_000);
      const line = await child.line((l) => l.startsWith('P '), 15_000);
      const processed = JSON.parse(line.slice(2)) as {
        traceId: string;
        parentSpanId?: string;
        links: string[];
        attributes: Record<string, unknown>;
      };
      expect(processed.traceId).toBe(send?.spanContext().traceId);
      expect(processed.parentSpanId).toBe(send?.spanContext().spanId);
      expect(processed.links).toEqual([send?.spanContext().spanId]);
      expect(processed.attributes['messaging.message.id']).toBe('far');
      expect(processed.attributes['redis_patterns.queue.job.outcome']).toBe('completed');
    } finally {
      child.process.stdin?.end('stop\n');
      await child.exited;
      await queue.purge();
    }
  });
});
