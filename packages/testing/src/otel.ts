/**
 * An in-memory OpenTelemetry SDK for the telemetry tests of every package: a tracer provider whose
 * spans land in an array, and a metric reader collected on demand. Registered globally, the way an
 * application registers its SDK.
 */
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type DataPoint, type Histogram, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

/** The name of the root span of {@link OtelHarness.traced}. */
const ROOT = 'test request';

/** A reader that exports nothing by itself: the test calls `collect()`. */
class ManualReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** One recorded data point: its attributes and its value (a sum, or a histogram's count and sum). */
export interface Point {
  attributes: Record<string, unknown>;
  value: number;
  count?: number;
}

/** The registered in-memory SDK. */
export interface OtelHarness {
  /** Ended spans so far, oldest first, without the spans of {@link OtelHarness.traced}. */
  spans(name?: string): ReadableSpan[];
  /**
   * Runs `fn` inside a recording root span, as a request handler runs inside its server span:
   * the patterns only trace their operations inside a trace that records.
   */
  traced<T>(fn: () => Promise<T>): Promise<T>;
  /** The data points of the metric `name` now (cumulative since registration). */
  points(name: string): Promise<Point[]>;
  /** Forgets the spans ended so far. */
  resetSpans(): void;
  /** Unregisters the providers, as if no SDK were installed. */
  shutdown(): Promise<void>;
}

/** Registers a recording tracer provider and a meter provider globally. */
export function registerOtel(): OtelHarness {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const reader = new ManualReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    spans: (name) =>
      exporter.getFinishedSpans().filter((s) => (name === undefined ? s.name !== ROOT : s.name === name)),
    traced: (fn) => trace.getTracer('test').startActiveSpan(ROOT, (root) => fn().finally(() => root.end())),
    async points(name) {
      const { resourceMetrics } = await reader.collect();
      const found = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .filter((m) => m.descriptor.name === name);
      return found.flatMap((m) =>
        (m.dataPoints as DataPoint<number | Histogram>[]).map((p) =>
          typeof p.value === 'number'
            ? { attributes: { ...p.attributes }, value: p.value }
            : { attributes: { ...p.attributes }, value: p.value.sum ?? 0, count: p.value.count },
        ),
      );
    },
    resetSpans: () => exporter.reset(),
    async shutdown() {
      trace.disable();
      metrics.disable();
      context.disable();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

/** The value of the point whose attributes include `match`, or 0 when there is none. */
export function pointValue(points: Point[], match: Record<string, unknown>): number {
  const point = points.find((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
  return point?.value ?? 0;
}

/**
 * What an SDK registered now would export at once: its spans and the points of `metrics`, the SDK
 * shut down again. The "no SDK installed" tests call it after their calls: anything a pattern
 * recorded or buffered without a provider would show here.
 */
export async function exportedOnRegistration(
  metrics: readonly string[],
): Promise<{ spans: ReadableSpan[]; points: Point[] }> {
  const otel = registerOtel();
  try {
    const points = await Promise.all(metrics.map((name) => otel.points(name)));
    return { spans: otel.spans(), points: points.flat() };
  } finally {
    await otel.shutdown();
  }
}
