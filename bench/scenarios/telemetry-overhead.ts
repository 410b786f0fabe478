import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  type SpanExporter,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { createCache } from '@redis-patterns/cache-aside';
import { connect } from '@redis-patterns/connection';
import { createQueue, createWorker } from '@redis-patterns/queue';
import { createRateLimiter, fixedWindow } from '@redis-patterns/rate-limit';
import { type BenchContext, defineScenario, type Row, type Runner } from '../scenario.ts';

/** What a row registers globally before it is measured, as an application would at startup. */
type Setup = 'none' | 'tracing-off' | 'tracing-off+metrics' | 'tracing-on+metrics';

/** Exports nothing: the cost measured is our instrumentation and the SDK's, not a network. */
const noSpans: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
};
const noMetrics: PushMetricExporter = {
  export: (_metrics, done) => done({ code: 0 }),
  forceFlush: async () => {},
  shutdown: async () => {},
};

/** Registers the SDK of `setup` globally; returns how to take it down again. */
function register(setup: Setup): () => Promise<void> {
  if (setup === 'none') return async () => {};
  const tracing = setup === 'tracing-on+metrics';
  const tracerProvider = new TracerProvider({
    sampler: tracing ? new AlwaysOnSampler() : new AlwaysOffSampler(),
    spanProcessors: tracing ? [new BatchSpanProcessor({ exporter: noSpans })] : [],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  const meterProvider = setup.endsWith('+metrics')
    ? new MeterProvider({
        readers: [new PeriodicExportingMetricReader({ exporter: noMetrics, exportIntervalMillis: 1000 })],
      })
    : undefined;
  if (meterProvider) metrics.setGlobalMeterProvider(meterProvider);
  return async () => {
    trace.disable();
    metrics.disable();
    context.disable();
    await Promise.all([tracerProvider.shutdown(), meterProvider?.shutdown()]);
  };
}

const IDENTIFIERS = 1000;
const KEYS = 100;

/**
 * With tracing on, each op runs in a sampled request span, as in a traced server: our spans are
 * only started under a recording parent. The request span's own cost is in the row too.
 */
function inRequest(setup: Setup, op: (i: number) => Promise<unknown>): (i: number) => Promise<unknown> {
  if (setup !== 'tracing-on+metrics') return op;
  const tracer = trace.getTracer('bench');
  return (i) => tracer.startActiveSpan('request', (span) => op(i).finally(() => span.end()));
}

/** A fixed-window check, as the rate-limit scenario's row, under `setup`. */
async function rateLimit(url: string, setup: Setup): Promise<Runner> {
  const unregister = register(setup);
  const redis = await connect({ url });
  const limiter = createRateLimiter({
    redis,
    prefix: `bench:otel:${setup}:`,
    name: 'api',
    algorithm: fixedWindow({ limit: 100, windowMs: 1000 }),
  });
  return {
    op: inRequest(setup, (i) => limiter.limit(`user${i % IDENTIFIERS}`)),
    close: async () => {
      await redis.close();
      await unregister();
    },
  };
}

/** A cache hit of a small JSON value (no near cache: one GET per hit), under `setup`. */
async function cacheHit(url: string, setup: Setup): Promise<Runner> {
  const unregister = register(setup);
  const redis = await connect({ url });
  const cache = createCache({ redis, prefix: `bench:otel:${setup}:`, ttlMs: 600_000 });
  const key = (i: number) => `profile:${i % KEYS}`;
  const load = async () => ({ name: 'someone', roles: ['reader'], bio: 'x'.repeat(200) });
  for (let i = 0; i < KEYS; i++) await cache.getOrLoad(key(i), load);
  return {
    op: inRequest(setup, (i) => cache.getOrLoad(key(i), load)),
    close: async () => {
      await cache.close();
      await redis.close();
      await unregister();
    },
  };
}

/**
 * A job added and processed (an empty handler, concurrency 50), under `setup`: the op ends when the
 * handler ran, so it carries the add, the send and process spans, the stored trace context and the
 * worker's metrics. Completions are acknowledged after the op ends, in the worker's next exchange.
 */
async function queueJob(url: string, setup: Setup): Promise<Runner> {
  const unregister = register(setup);
  const redis = await connect({ url });
  const queue = createQueue<number>({ redis, prefix: `bench:otel:${setup}:`, name: 'jobs' });
  const running = new Map<number, () => void>();
  const worker = createWorker<number>(
    queue,
    ({ payload }) => {
      running.get(payload)?.();
      running.delete(payload);
    },
    { concurrency: 50 },
  );
  worker.start();
  let next = 0;
  return {
    op: inRequest(setup, async () => {
      const n = next++;
      const ran = new Promise<void>((resolve) => running.set(n, resolve));
      await queue.add(n);
      await ran;
    }),
    close: async () => {
      await worker.stop();
      await queue.purge();
      await queue.close();
      await redis.close();
      await unregister();
    },
  };
}

const SETUPS: Array<[Setup, string]> = [
  ['none', '@opentelemetry/api, no SDK registered'],
  ['tracing-off', 'SDK registered, sampler never samples'],
  ['tracing-off+metrics', 'SDK, sampler never samples, metrics on'],
  ['tracing-on+metrics', 'SDK, all sampled (batch, no-op exporter) in a request span, metrics on'],
];

const rows = (group: string, make: (url: string, setup: Setup) => Promise<Runner>): Row[] =>
  SETUPS.map(([setup, label]) => ({
    name: `${group}: ${label}`,
    peer: false,
    group,
    make: ({ url }: BenchContext) => make(url, setup),
  }));

export default defineScenario({
  name: 'telemetry-overhead',
  description:
    'The cost of OpenTelemetry per op: a fixed-window check, a cache hit and a queue job (added and processed), without an SDK, with an SDK whose sampler drops every span (with and without metrics), and with every span recorded. Compare Node µs/op within a group.',
  inflight: [50],
  rows: [
    ...rows('rate-limit check', rateLimit),
    ...rows('cache hit', cacheHit),
    ...rows('queue job', queueJob),
  ],
});
