/**
 * Trace context that travels with work through Redis: the producer stores a carrier beside the work,
 * the consumer (often another process) starts its span from it. See {@link Telemetry.carrier} and
 * {@link Telemetry.consume}.
 */
import type * as OtelApi from '@opentelemetry/api';
import { errorType, type RemoteSpan, type TelemetryAttributes, type TraceCarrier } from './telemetry.js';

type Api = typeof OtelApi;

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The carrier of the active span when it records: the propagator's fields, W3C ones when it writes none. */
export function carrierOf(otel: Api): TraceCarrier | undefined {
  const active = otel.context.active();
  const span = otel.trace.getSpan(active);
  if (span === undefined || !span.isRecording()) return undefined;
  const carrier: TraceCarrier = {};
  otel.propagation.inject(active, carrier);
  // Without a registered propagator (the API's default is a no-op) the context would be lost.
  if (carrier.traceparent === undefined) {
    const { traceId, spanId, traceFlags, traceState } = span.spanContext();
    carrier.traceparent = `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
    const state = traceState?.serialize();
    if (state) carrier.tracestate = state;
  }
  return carrier;
}

/** The context a carrier holds, read by the registered propagator, else as W3C trace context. */
function extracted(otel: Api, carrier: TraceCarrier): OtelApi.Context | undefined {
  const root = otel.ROOT_CONTEXT;
  const byPropagator = otel.propagation.extract(root, carrier);
  if (otel.trace.getSpanContext(byPropagator) !== undefined) return byPropagator;
  const parsed = TRACEPARENT.exec(carrier.traceparent ?? '');
  if (parsed === null) return undefined;
  const [, traceId = '', spanId = '', flags = '00'] = parsed;
  const spanContext: OtelApi.SpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16),
    isRemote: true,
  };
  if (carrier.tracestate) spanContext.traceState = otel.createTraceState(carrier.tracestate);
  if (!otel.isSpanContextValid(spanContext)) return undefined;
  return otel.trace.setSpanContext(root, spanContext);
}

/**
 * Whether root spans of one tracer are worth starting. The SDK's `startSpan` makes ids, copies
 * attributes and counts its own metrics even for a span its sampler drops, so after 256 roots in a
 * row were dropped only one call in 64 asks the sampler again, and one recorded root turns asking
 * back on for good. A sampler that keeps a small ratio of roots may keep fewer of them while this
 * learns it keeps any; one that never samples roots (tracing off) costs a counter per call.
 */
export interface RootSampling {
  tracer: OtelApi.Tracer | undefined;
  dropped: number;
  recorded: boolean;
}

const ROOT_PROBATION = 256;
const ROOT_PROBE_EVERY = 64;

/** Whether to ask the sampler about the next root span of `tracer`. */
function askForRoot(roots: RootSampling, tracer: OtelApi.Tracer): boolean {
  if (roots.tracer !== tracer) {
    roots.tracer = tracer;
    roots.dropped = 0;
    roots.recorded = false;
  }
  if (roots.recorded || roots.dropped < ROOT_PROBATION) return true;
  return ++roots.dropped % ROOT_PROBE_EVERY === 0;
}

/** Starts the consumer span of work carrying `carrier`; undefined when the span does not record. */
export function startRemote(
  otel: Api,
  tracer: OtelApi.Tracer,
  roots: RootSampling,
  name: string,
  attributes: TelemetryAttributes,
  carrier: TraceCarrier | undefined,
): RemoteSpan | undefined {
  const parent = carrier === undefined ? undefined : extracted(otel, carrier);
  const parentSpan = parent === undefined ? undefined : otel.trace.getSpanContext(parent);
  // As Telemetry.span does: under the usual parent-based sampler a child of an unsampled trace is
  // dropped anyway.
  if (parentSpan !== undefined && (parentSpan.traceFlags & otel.TraceFlags.SAMPLED) === 0) return undefined;
  if (parentSpan === undefined && !askForRoot(roots, tracer)) return undefined;
  const span = tracer.startSpan(
    name,
    {
      kind: otel.SpanKind.CONSUMER,
      attributes,
      root: parent === undefined,
      links: parentSpan === undefined ? [] : [{ context: parentSpan }],
    },
    parent ?? otel.ROOT_CONTEXT,
  );
  if (!span.isRecording()) {
    span.end();
    if (parentSpan === undefined && roots.dropped < ROOT_PROBATION) roots.dropped++;
    return undefined;
  }
  if (parentSpan === undefined) roots.recorded = true;
  const active = otel.trace.setSpan(parent ?? otel.ROOT_CONTEXT, span);
  let ended = false;
  return {
    setAttribute: (key, value) => span.setAttribute(key, value),
    run: (fn) => otel.context.with(active, fn),
    end(error) {
      if (ended) return;
      ended = true;
      if (error !== undefined) {
        const message = error instanceof Error ? error.message : String(error);
        span.recordException(error instanceof Error ? error : message);
        span.setStatus({ code: otel.SpanStatusCode.ERROR, message });
        if (error instanceof Error) span.setAttribute('error.type', errorType(error));
      }
      span.end();
    },
  };
}
