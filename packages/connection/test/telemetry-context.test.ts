import {
  type Attributes,
  context,
  type Sampler,
  SamplingDecision,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetry } from '../src/telemetry.ts';

/** Samples what `decision` says, and counts how often it was asked. */
class CountingSampler implements Sampler {
  calls = 0;
  decision = SamplingDecision.RECORD_AND_SAMPLED;
  shouldSample(_context: unknown, _traceId: string, _name: string, _kind: SpanKind, _attributes: Attributes) {
    this.calls++;
    return { decision: this.decision };
  }
  toString() {
    return 'CountingSampler';
  }
}

describe('trace context carried through Redis', () => {
  const sampler = new CountingSampler();
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const otel = telemetry('@redis-patterns/connection-context-test', '0.0.0');

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    trace.disable();
    context.disable();
    await provider.shutdown();
  });

  it('carries the active span as W3C trace context and continues it in a linked consumer span', () => {
    expect(otel.carrier()).toBeUndefined();
    const producer = trace.getTracer('test').startSpan('producer');
    const carrier = context.with(trace.setSpan(context.active(), producer), () => otel.carrier());
    producer.end();
    const { traceId, spanId } = producer.spanContext();
    expect(carrier).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });
    const consumer = otel.consume('process q', { a: 1 }, carrier);
    let inner: string | undefined;
    consumer?.run(() => {
      inner = trace.getActiveSpan()?.spanContext().spanId;
    });
    consumer?.end(new TypeError('boom'));
    const [ended] = exporter.getFinishedSpans().filter((s) => s.name === 'process q');
    expect(ended?.kind).toBe(SpanKind.CONSUMER);
    expect(ended?.spanContext().traceId).toBe(traceId);
    expect(ended?.parentSpanContext?.spanId).toBe(spanId);
    expect(ended?.links.map((l) => l.context.spanId)).toEqual([spanId]);
    expect(inner).toBe(ended?.spanContext().spanId);
    expect(ended?.attributes).toEqual({ a: 1, 'error.type': 'TypeError' });
  });

  it('starts nothing under an unsampled carried context, without asking the sampler', () => {
    const before = sampler.calls;
    const carrier = { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-00` };
    expect(otel.consume('process q', {}, carrier)).toBeUndefined();
    expect(sampler.calls).toBe(before);
  });

  it('asks a sampler that drops every root about one root in 64 after 256, and always again once one records', () => {
    sampler.decision = SamplingDecision.NOT_RECORD;
    const before = sampler.calls;
    for (let i = 0; i < 1000; i++) expect(otel.consume('process q', {}, undefined)).toBeUndefined();
    // 256 on probation, then the calls 320, 384, ... 960.
    expect(sampler.calls - before).toBe(256 + 11);
    sampler.decision = SamplingDecision.RECORD_AND_SAMPLED;
    // A probe finds out within 64 calls.
    let untilRecorded = 0;
    for (
      let span = undefined as ReturnType<typeof otel.consume>;
      span === undefined && untilRecorded < 64;
    ) {
      untilRecorded++;
      span = otel.consume('process q', {}, undefined);
      span?.end();
    }
    expect(untilRecorded).toBeLessThanOrEqual(64);
    expect(
      exporter.getFinishedSpans().filter((s) => s.name === 'process q' && !s.parentSpanContext),
    ).toHaveLength(1);
    const asked = sampler.calls;
    const spans = Array.from({ length: 10 }, () => otel.consume('process q', {}, undefined));
    for (const span of spans) span?.end();
    expect(sampler.calls - asked).toBe(10);
    expect(spans.every((span) => span !== undefined)).toBe(true);
  });
});
