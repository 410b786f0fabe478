/**
 * OpenTelemetry of the rate limiter: a `ratelimit <op>` span per public call when a tracer records,
 * the `redis_patterns.ratelimit.decisions` counter of every `limit()` decision, and
 * `redis_patterns.ratelimit.fail_mode_decisions` for those the fail mode made when Redis failed. Free of cost
 * beyond one no-op call when `@opentelemetry/api` is absent.
 */
import { createRequire } from 'node:module';
import { type TelemetryAttributes, telemetry, traceInspector } from '@redis-patterns/connection/internal';
import type { RateLimitInspector } from './inspect.js';
import type { RateLimiter } from './limiter.js';
import type { Policy, RateLimitResult } from './result.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const otel = telemetry('@redis-patterns/rate-limit', version);
const decisions = otel.counter('redis_patterns.ratelimit.decisions', {
  description: 'Decisions of limit() calls, by outcome and limiter.',
  unit: '{decision}',
});

const failModeDecisions = otel.counter('redis_patterns.ratelimit.fail_mode_decisions', {
  description:
    'Decisions of limit() calls that the fail mode made because Redis failed or was too slow, by outcome and limiter.',
  unit: '{decision}',
});

/**
 * The `limiter` label: the configured names of its limits, or their algorithm where a limit kept
 * the default name. Set by configuration, never by callers, so the label set stays bounded.
 */
export function limiterLabel(policies: readonly Policy[]): string {
  return policies.map((p) => (p.name === 'default' ? p.algorithm : p.name)).join('+');
}

/** The label sets of each limiter label, shared by every limiter with that label. */
const labels = new Map<string, { allowed: TelemetryAttributes; denied: TelemetryAttributes }>();
function decisionLabels(limiter: string) {
  let found = labels.get(limiter);
  if (found === undefined) {
    found = {
      allowed: Object.freeze({ decision: 'allowed', limiter }),
      denied: Object.freeze({ decision: 'denied', limiter }),
    };
    labels.set(limiter, found);
  }
  return found;
}

/** Span attributes of one operation, built once per limiter and operation. */
function attributesOf(operation: string, label: string): TelemetryAttributes {
  return {
    'db.system.name': 'redis',
    'db.operation.name': operation,
    'redis_patterns.ratelimit.limiter': label,
  };
}

/** Sets the decision of `result` on the span, when there is one. */
function annotate(
  span: { setAttribute(k: string, v: string | boolean): unknown } | undefined,
  result: RateLimitResult,
) {
  if (span === undefined) return;
  span.setAttribute('redis_patterns.ratelimit.decision', result.allowed ? 'allowed' : 'denied');
  if (result.error !== undefined) span.setAttribute('redis_patterns.ratelimit.fail_mode_decided', true);
}

/** `limiter` with every public operation traced and every `limit()` decision counted. */
export function instrument(limiter: RateLimiter): RateLimiter {
  const label = limiterLabel(limiter.policies);
  const { allowed, denied } = decisionLabels(label);
  const limitAttributes = attributesOf('limit', label);
  const peekAttributes = attributesOf('peek', label);
  const penaltyAttributes = attributesOf('penalty', label);
  const rewardAttributes = attributesOf('reward', label);
  const refundAttributes = attributesOf('refund', label);
  const resetAttributes = attributesOf('reset', label);
  const traced: RateLimiter = {
    policies: limiter.policies,
    limit: (identifier, options) =>
      otel.span('ratelimit limit', limitAttributes, async (span) => {
        const result = await limiter.limit(identifier, options);
        decisions(1, result.allowed ? allowed : denied);
        if (result.error !== undefined) failModeDecisions(1, result.allowed ? allowed : denied);
        annotate(span, result);
        return result;
      }),
    peek: (identifier, options) =>
      otel.span('ratelimit peek', peekAttributes, async (span) => {
        const result = await limiter.peek(identifier, options);
        annotate(span, result);
        return result;
      }),
    penalty: (identifier, points, options) =>
      otel.span('ratelimit penalty', penaltyAttributes, () => limiter.penalty(identifier, points, options)),
    reward: (identifier, points, options) =>
      otel.span('ratelimit reward', rewardAttributes, () => limiter.reward(identifier, points, options)),
    refund: (identifier, cost, options) =>
      otel.span('ratelimit refund', refundAttributes, () => limiter.refund(identifier, cost, options)),
    reset: (identifier) => otel.span('ratelimit reset', resetAttributes, () => limiter.reset(identifier)),
    close: () => limiter.close(),
    [Symbol.asyncDispose]: () => limiter.close(),
  };
  return traced;
}

/** `inspector` with every call but `ping` and `close` in a `ratelimit inspect.<method>` span (no identifier recorded). */
export function instrumentRateLimitInspector(inspector: RateLimitInspector): RateLimitInspector {
  return traceInspector(otel, 'ratelimit', inspector, ['list', 'get', 'reset']);
}
