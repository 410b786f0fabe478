import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  ConsoleSpanExporter,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { createCache } from '@redis-patterns/cache-aside';
import { createLock } from '@redis-patterns/lock';
import { createDashboard, run } from '@redis-patterns/ops';
import { createQueue, createWorker } from '@redis-patterns/queue';
import { createRateLimiter, fixedWindow } from '@redis-patterns/rate-limit';
import { type DemoScenario, expectThat } from './scenario.ts';

/** `name  1.2 ms  key=value …`, indented under its parent, children in start order. */
function printTree(spans: ReadableSpan[], log: (line: string) => void): void {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const children = new Map<string | undefined, ReadableSpan[]>();
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId;
    const key = parent !== undefined && ids.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), span]);
  }
  const walk = (parent: string | undefined, depth: number) => {
    const level = (children.get(parent) ?? []).sort(
      (a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1],
    );
    for (const span of level) {
      const ms = span.duration[0] * 1000 + span.duration[1] / 1e6;
      const shown = Object.entries(span.attributes)
        .filter(([key]) => key !== 'db.system.name')
        .map(([key, value]) => `${key}=${String(value)}`)
        .join(' ');
      log(`${'  '.repeat(depth)}${span.name}  ${ms.toFixed(1)} ms  ${shown}`);
      walk(span.spanContext().spanId, depth + 1);
    }
  };
  walk(undefined, 1);
}

/** Runs the CLI in this process and returns what it printed. */
async function cli(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await run(argv, {
    stdout: { write: (chunk: string) => (out += chunk) },
    stderr: { write: (chunk: string) => (out += chunk) },
  });
  return { code, out };
}

export const operateTour: DemoScenario = {
  name: 'operate',
  title: 'Operating it: one request traced through four patterns, then the CLI and the dashboard',
  async run({ redis, url, log }) {
    // The SDK an application registers at start-up; here spans are kept in memory and printed as a
    // tree (DEMO_OTEL=console also prints each through OpenTelemetry's console exporter).
    const exporter = new InMemorySpanExporter();
    const spanProcessors: SpanProcessor[] = [new SimpleSpanProcessor({ exporter })];
    if (process.env.DEMO_OTEL === 'console')
      spanProcessors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
    const provider = new TracerProvider({ spanProcessors });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);

    const base = `demo:${process.pid}:ops:`;
    const prefixes = { cache: `${base}cache:`, lock: `${base}lock:`, ratelimit: `${base}rl:`, queue: base };
    const cache = createCache({ redis, prefix: prefixes.cache, ttlMs: 60_000 });
    const locks = createLock({ redis, prefix: prefixes.lock, ttlMs: 5_000 });
    const limiter = createRateLimiter({
      redis,
      prefix: prefixes.ratelimit,
      name: 'checkout',
      algorithm: fixedWindow({ limit: 5, windowMs: 60_000 }),
    });
    const queue = createQueue<{ order: number }>({ redis, prefix: prefixes.queue, name: 'orders' });
    const worker = createWorker(queue, async () => {}, { concurrency: 1, pollIntervalMs: 50 });
    let loads = 0;
    const loadProduct = async () => {
      loads++;
      return { id: 42, name: 'Teapot', price: 18 };
    };
    try {
      // One request of an app: a rate-limit check, a cached read, a lock around the stock update,
      // and a job for the worker. The worker's `process` span joins the request's trace.
      const tracer = trace.getTracer('demo-shop');
      await tracer.startActiveSpan('POST /checkout', { kind: SpanKind.SERVER }, async (span) => {
        const verdict = await limiter.limit('user-7');
        expectThat(verdict.allowed, 'the first checkout was refused');
        await cache.getOrLoad('product:42', loadProduct, { tags: ['catalog'] });
        await locks.withLock('stock:42', async () => {});
        await queue.add({ order: 1001 }, { id: 'order-1001' });
        span.end();
      });
      worker.start();
      await queue.waitUntilFinished('order-1001', { timeoutMs: 5_000 });
      await provider.forceFlush();
      const spans = exporter.getFinishedSpans();
      const traces = new Set(spans.map((s) => s.spanContext().traceId));
      log(`The request's trace, as an OpenTelemetry backend receives it (${spans.length} spans):`);
      printTree(spans, log);
      const names = spans.map((s) => s.name);
      for (const wanted of ['POST /checkout', 'ratelimit limit', 'cache getOrLoad', 'lock withLock'])
        expectThat(
          names.some((n) => n.startsWith(wanted)),
          `no "${wanted}" span in ${names.join(', ')}`,
        );
      expectThat(
        names.some((n) => n.startsWith('send ')) && names.some((n) => n.startsWith('process ')),
        `no queue send/process spans in ${names.join(', ')}`,
      );
      expectThat(traces.size === 1, `the spans fell into ${traces.size} traces, not one`);

      // `redis-patterns status`: every pattern's state at a glance (here under the demo's prefixes).
      const prefixFlags = Object.entries(prefixes).flatMap(([pattern, p]) => [`--${pattern}-prefix`, p]);
      const status = await cli(['--url', url, 'status', ...prefixFlags]);
      log('$ redis-patterns status');
      for (const line of status.out.trimEnd().split('\n')) log(`  ${line}`);
      expectThat(status.code === 0 && status.out.includes('orders'), `status exited ${status.code}`);

      // `redis-patterns cache invalidate-tag`: the cached product becomes a miss everywhere.
      const cleared = await cli([
        '--url',
        url,
        '--prefix',
        prefixes.cache,
        'cache',
        'invalidate-tag',
        'catalog',
        '--yes',
      ]);
      log(`$ redis-patterns cache invalidate-tag catalog --yes  →  ${cleared.out.trim()}`);
      await cache.getOrLoad('product:42', loadProduct, { tags: ['catalog'] });
      log(`The next read of product:42 loaded it again: ${loads} loads in all.`);
      expectThat(cleared.code === 0 && loads === 2, `invalidate-tag exited ${cleared.code}; ${loads} loads`);

      // `redis-patterns dashboard` serves the same in a browser; here its JSON API answers a script.
      const dashboard = createDashboard({
        redis,
        prefixes: { queue: prefixes.queue, cache: prefixes.cache },
      });
      const server = createServer(dashboard.handler).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const answer = await fetch(`${base}/api/queues`, {
          headers: { authorization: `Bearer ${dashboard.token}` },
        });
        const { queues } = (await answer.json()) as { queues: Array<{ name: string; completed: number }> };
        const orders = queues.find((q) => q.name === 'orders');
        log(
          `The dashboard at ${base}/ (token-protected) shows queue orders: ${orders?.completed} completed.`,
        );
        expectThat(answer.status === 200 && orders?.completed === 1, `dashboard answered ${answer.status}`);
        const anonymous = await fetch(`${base}/api/queues`);
        log(`Without the token it answers ${anonymous.status}.`);
        expectThat(anonymous.status === 401, `the dashboard answered ${anonymous.status} without a token`);
      } finally {
        await new Promise((resolve) => server.close(resolve));
        await dashboard.close();
      }
    } finally {
      await worker.stop();
      await Promise.all([cache.close(), locks.close(), limiter.close(), queue.close()]);
      // The demo's keys expire on their own (fencing counters and queue keys have no TTL of theirs).
      for await (const key of redis.scan(`${base}*`)) await redis.send(['PEXPIRE', key, '60000'], { key });
      trace.disable();
      context.disable();
      await provider.shutdown();
    }
  },
};
