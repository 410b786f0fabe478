/**
 * OpenTelemetry for the patterns, through `@opentelemetry/api` as an optional peer dependency.
 *
 * The API is loaded once, synchronously, on first use. When it is not installed every span runs its
 * function directly and every instrument is a no-op. Spans are children of the caller's active
 * span and are only started while that span records: an operation called outside a sampled trace
 * pays one context lookup, not a `startSpan`. Counters are summed in process and read by the SDK
 * when it collects.
 *
 * The tracer and the instruments are looked up again whenever the global provider changes, so a
 * provider registered after a pattern was created (or replaced in tests) is picked up.
 */
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
// Only values and an internal type come from there: its declarations name @opentelemetry/api's
// types, which must not reach the public .d.ts files of a package whose peer may be absent.
import { carrierOf, type RootSampling, startRemote } from './telemetry-context.js';

type Api = typeof OtelApi;

/** Attribute values the patterns record: strings, numbers and booleans only. */
export type TelemetryAttributes = Record<string, string | number | boolean>;

/** The span a traced function receives, to add attributes once it knows its outcome. */
export interface TelemetrySpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
}

/** The kind of a span started by {@link Telemetry.span}: `internal` unless it sends work elsewhere. */
export type TelemetrySpanKind = 'internal' | 'producer' | 'client';

/** Propagation fields (`traceparent`, `tracestate`, or whatever the registered propagator writes). */
export type TraceCarrier = Record<string, string>;

/** A span started by {@link Telemetry.consume}; ended by its owner once the work is done. */
export interface RemoteSpan extends TelemetrySpan {
  /** Runs `fn` with this span active, so that spans started inside it are its children. */
  run<T>(fn: () => T): T;
  /**
   * Ends the span; an `error` is recorded as an exception with an error status and `error.type`.
   * Later calls do nothing.
   */
  end(error?: unknown): void;
}

/** Description and unit of an instrument, as OpenTelemetry's `MetricOptions`. */
export interface InstrumentOptions {
  description: string;
  /** UCUM unit: `s` for durations, `{request}` style annotations for counts. */
  unit: string;
}

/** Adds `value` to a counter, or records it in a histogram, with bounded attributes. */
export type RecordValue = (value: number, attributes?: TelemetryAttributes) => void;

/** What a pattern package holds to trace and measure its public operations. */
export interface Telemetry {
  /**
   * Runs `fn` inside a new active span named `name`, child of the caller's active span, when that
   * span records; ends it when the returned promise settles. A rejection is recorded on the span as
   * an exception with an error status and `error.type`, then rethrown. Outside a recording span
   * (no SDK, tracing off, an unsampled trace, no trace at all) it returns `fn(undefined)`.
   * @param kind - The span kind. @default 'internal'
   */
  span<T>(
    name: string,
    attributes: TelemetryAttributes,
    fn: (span: TelemetrySpan | undefined) => Promise<T>,
    kind?: TelemetrySpanKind,
  ): Promise<T>;
  /**
   * The trace context of the active span, to store beside work another process picks up: what the
   * registered propagator injects, with the W3C `traceparent` (and `tracestate`) added when it
   * injects none. Undefined unless the active span records.
   */
  carrier(): TraceCarrier | undefined;
  /**
   * Starts a consumer span for work that carries `carrier` (from {@link Telemetry.carrier}): a child
   * of the carried context with a link to it, or a root span when there is none; the SDK's sampler
   * decides (a sampler seen to drop every root is asked about one root in 64, see `RootSampling`).
   * Undefined without the API, under an unsampled carried context, or when the span does not record.
   */
  consume(
    name: string,
    attributes: TelemetryAttributes,
    carrier: TraceCarrier | undefined,
  ): RemoteSpan | undefined;
  /**
   * A monotonic counter, cached by name. Pass one constant (frozen) attributes object per label
   * set: totals are kept per object, so an object built per call would grow them without bound.
   */
  counter(name: string, options: InstrumentOptions): RecordValue;
  /** A histogram, created on first use and cached by name. */
  histogram(name: string, options: InstrumentOptions): RecordValue;
  /**
   * The span attributes of a public operation, `{ 'db.system.name': 'redis', 'db.operation.name':
   * operation }`: one frozen object per operation, built on first use.
   */
  operation(operation: string): TelemetryAttributes;
  /** Whether `@opentelemetry/api` is installed: lets a hot path skip building attributes. */
  readonly available: boolean;
}

let loaded: Api | null | undefined;

/** The API module, or `null` when it is not installed; resolved once. */
function api(): Api | null {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('@opentelemetry/api') as Api;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/**
 * The telemetry of one instrumentation scope (a package), named and versioned as its npm package.
 *
 * @example
 * ```ts
 * const otel = telemetry('@redis-patterns/lock', '0.1.0');
 * const lost = otel.counter('redis_patterns.lock.lost', { description: 'Locks lost', unit: '{lock}' });
 * await otel.span('lock acquire', { 'db.system.name': 'redis' }, () => acquire());
 * ```
 */
export function telemetry(scope: string, version: string): Telemetry {
  let tracerProvider: OtelApi.TracerProvider | undefined;
  let tracer: OtelApi.Tracer | undefined;
  const instruments = new Map<string, RecordValue>();
  const operations = new Map<string, TelemetryAttributes>();
  const roots: RootSampling = { tracer: undefined, dropped: 0, recorded: false };

  function currentTracer(otel: Api): OtelApi.Tracer {
    const provider = otel.trace.getTracerProvider();
    if (provider !== tracerProvider || tracer === undefined) {
      tracerProvider = provider;
      tracer = provider.getTracer(scope, version);
    }
    return tracer;
  }

  /** A histogram: recorded through the current provider's instrument, re-created when it changes. */
  function histogram(name: string, options: InstrumentOptions): RecordValue {
    let meterProvider: OtelApi.MeterProvider | undefined;
    let instrument: OtelApi.Histogram | undefined;
    return (value, attributes) => {
      const otel = api();
      if (otel === null) return;
      const provider = otel.metrics.getMeterProvider();
      if (provider !== meterProvider || instrument === undefined) {
        meterProvider = provider;
        instrument = provider.getMeter(scope, version).createHistogram(name, options);
      }
      instrument.record(value, attributes);
    };
  }

  /**
   * A counter summed here and reported by an observable counter when the SDK collects: an `add` on
   * a hot path is one map update, where the SDK's own `Counter.add` hashes the attributes of every
   * call. Totals start again when another meter provider is registered.
   */
  function counter(name: string, options: InstrumentOptions): RecordValue {
    let meterProvider: OtelApi.MeterProvider | undefined;
    let totals = new Map<TelemetryAttributes | undefined, number>();
    return (value, attributes) => {
      const otel = api();
      if (otel === null) return;
      const provider = otel.metrics.getMeterProvider();
      if (provider !== meterProvider) {
        meterProvider = provider;
        const counted = new Map<TelemetryAttributes | undefined, number>();
        totals = counted;
        provider
          .getMeter(scope, version)
          .createObservableCounter(name, options)
          .addCallback((result) => {
            for (const [labels, total] of merged(counted)) result.observe(total, labels);
          });
      }
      totals.set(attributes, (totals.get(attributes) ?? 0) + value);
    };
  }

  /** Instruments by name, so that every call site of one name shares one instrument. */
  function cached(name: string, make: () => RecordValue): RecordValue {
    let found = instruments.get(name);
    if (found === undefined) {
      found = make();
      instruments.set(name, found);
    }
    return found;
  }

  return {
    get available() {
      return api() !== null;
    },
    operation(operation) {
      let found = operations.get(operation);
      if (found === undefined) {
        found = Object.freeze({ 'db.system.name': 'redis', 'db.operation.name': operation });
        operations.set(operation, found);
      }
      return found;
    },
    span(name, attributes, fn, kind) {
      const otel = api();
      if (otel === null) return fn(undefined);
      // Only inside a trace that records: the SDK's startSpan makes ids, copies attributes and
      // counts its own metrics even for a span its sampler then drops, where this check is one
      // context lookup. Under the default parent-based sampler a child of an unsampled parent is
      // dropped anyway.
      const active = otel.context.active();
      const parent = otel.trace.getSpan(active);
      if (parent === undefined || !parent.isRecording()) return fn(undefined);
      const span = currentTracer(otel).startSpan(
        name,
        {
          kind: kind === undefined ? otel.SpanKind.INTERNAL : SPAN_KINDS[kind](otel),
          attributes,
        },
        active,
      );
      if (!span.isRecording()) {
        span.end();
        return fn(undefined);
      }
      return otel.context.with(otel.trace.setSpan(active, span), () => settle(otel, span, fn));
    },
    carrier() {
      const otel = api();
      return otel === null ? undefined : carrierOf(otel);
    },
    consume(name, attributes, carrier) {
      const otel = api();
      if (otel === null) return undefined;
      return startRemote(otel, currentTracer(otel), roots, name, attributes, carrier);
    },
    counter: (name, options) => cached(name, () => counter(name, options)),
    histogram: (name, options) => cached(name, () => histogram(name, options)),
  };
}

const SPAN_KINDS: Record<TelemetrySpanKind, (otel: Api) => OtelApi.SpanKind> = {
  internal: (otel) => otel.SpanKind.INTERNAL,
  producer: (otel) => otel.SpanKind.PRODUCER,
  client: (otel) => otel.SpanKind.CLIENT,
};

/** Totals of equal label sets summed (two objects with the same labels are one series). */
function merged(
  totals: Map<TelemetryAttributes | undefined, number>,
): Map<TelemetryAttributes | undefined, number> {
  const byContent = new Map<string, [TelemetryAttributes | undefined, number]>();
  for (const [labels, total] of totals) {
    const key = labels === undefined ? '' : JSON.stringify(Object.entries(labels).sort());
    const seen = byContent.get(key);
    byContent.set(key, [labels, (seen?.[1] ?? 0) + total]);
  }
  return new Map(byContent.values());
}

/** Runs `fn` and ends `span` when it settles, recording a failure as an exception and an error status. */
async function settle<T>(
  otel: Api,
  span: OtelApi.Span,
  fn: (span: TelemetrySpan | undefined) => Promise<T>,
): Promise<T> {
  try {
    return await fn(span);
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: otel.SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    if (error instanceof Error) span.setAttribute('error.type', errorType(error));
    throw error;
  } finally {
    span.end();
  }
}

/** `error.type` per the semantic conventions: the stable code of our errors, else the class name. */
export function errorType(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.name;
}
