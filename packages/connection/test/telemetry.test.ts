import { trace } from '@opentelemetry/api';
import { registerOtel } from '@redis-patterns/testing/otel';
import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../src/errors.ts';
import { telemetry } from '../src/telemetry.ts';

const otel = telemetry('@redis-patterns/connection-test', '0.0.0');
const calls = otel.counter('test.calls', { description: 'Calls.', unit: '{call}' });

describe('telemetry', () => {
  it('runs the function without a span and records nothing when no SDK is registered', async () => {
    let seen: unknown = 'not called';
    const result = await otel.span('test op', { a: 1 }, async (span) => {
      seen = span;
      return 42;
    });
    expect(result).toBe(42);
    expect(seen).toBeUndefined();
    calls(1);
    expect(otel.available).toBe(true);
  });

  it('records spans only inside a recording trace, in its context, with errors, and instruments of the provider registered later', async () => {
    const sdk = registerOtel();
    try {
      let outside: unknown = 'not called';
      await otel.span('test outside', {}, async (span) => {
        outside = span;
      });
      expect(outside).toBeUndefined();
      const result = await sdk.traced(() =>
        otel.span('test outer', { 'db.system.name': 'redis' }, async (outer) => {
          outer?.setAttribute('late', 'yes');
          expect(trace.getActiveSpan()).toBe(outer);
          return otel.span('test inner', {}, async () => 'done');
        }),
      );
      expect(result).toBe('done');
      const failure = new TimeoutError('too slow', 10);
      await expect(
        sdk.traced(() => otel.span('test failing', {}, async () => Promise.reject(failure))),
      ).rejects.toBe(failure);
      calls(2, { kind: 'a' });
      calls(1, { kind: 'a' });
      expect(otel.counter('test.calls', { description: 'Calls.', unit: '{call}' })).toBe(calls);

      const [inner, outer, failing] = sdk.spans();
      expect(outer?.attributes).toEqual({ 'db.system.name': 'redis', late: 'yes' });
      expect(inner?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
      expect(inner?.instrumentationScope).toMatchObject({ name: '@redis-patterns/connection-test' });
      expect(failing?.status).toEqual({ code: 2, message: 'too slow' });
      expect(failing?.attributes['error.type']).toBe('ERR_TIMEOUT');
      expect(failing?.events[0]?.name).toBe('exception');
      const [point] = await sdk.points('test.calls');
      expect(point).toEqual({ attributes: { kind: 'a' }, value: 3 });
    } finally {
      await sdk.shutdown();
    }
  });

  it('stops recording once the provider is unregistered', async () => {
    const sdk = registerOtel();
    await sdk.shutdown();
    let seen: unknown = 'not called';
    await otel.span('test after', {}, async (span) => {
      seen = span;
    });
    expect(seen).toBeUndefined();
    expect(sdk.spans()).toEqual([]);
  });
});
