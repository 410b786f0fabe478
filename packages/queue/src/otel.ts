/**
 * OpenTelemetry of the queue, after the messaging semantic conventions: a PRODUCER span `send
 * <queue>` per `add`/`addBulk` under a recording span, whose trace context is stored with the jobs;
 * a CONSUMER span `process <queue>` per job run, child of that context (a root span when the job
 * carries none, if the SDK samples roots); messaging and queue metrics labelled by queue name and
 * outcome only. Job ids go in span attributes, never in metric labels. Without
 * `@opentelemetry/api` installed, each costs one check and nothing extra is written to Redis.
 */
import { createRequire } from 'node:module';
import {
  errorType,
  type RemoteSpan,
  type TelemetryAttributes,
  type TraceCarrier,
  telemetry,
} from '@redis-patterns/connection/internal';
import type { LeasedJob } from './commands/index.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const otel = telemetry('@redis-patterns/queue', version);

/**
 * Not a broker the conventions list: the protocol, the job format and the delivery guarantees are
 * this library's, over plain Redis keys, so `redis` (Redis Streams or Pub/Sub) would mislead.
 */
const SYSTEM = 'redis_patterns';

const sent = otel.counter('messaging.client.sent.messages', {
  description: 'Jobs sent to a queue by add() and addBulk(), duplicates included.',
  unit: '{message}',
});
const consumed = otel.counter('messaging.client.consumed.messages', {
  description: 'Jobs a worker leased and handed to its handler.',
  unit: '{message}',
});
const processDuration = otel.histogram('messaging.process.duration', {
  description: 'How long a job run took, from its handler starting to its outcome (error.type on failure).',
  unit: 's',
});
const jobs = otel.counter('redis_patterns.queue.jobs', {
  description:
    'Job runs whose outcome Redis recorded, by outcome: completed, retried, dead, cancelled or lost.',
  unit: '{job}',
});
const lag = otel.histogram('redis_patterns.queue.job.lag', {
  description: 'How long a job waited from becoming runnable until a worker started it (first runs).',
  unit: 's',
});

/** How a job run ended, from this worker's point of view. */
export type RunOutcome = 'completed' | 'retried' | 'dead' | 'cancelled' | 'lost' | 'released';

/** Attribute objects of one queue, built once: the counters keep totals per object. */
interface QueueLabels {
  send: TelemetryAttributes;
  process: TelemetryAttributes;
  queue: TelemetryAttributes;
  outcomes: Map<RunOutcome, TelemetryAttributes>;
}

const byQueue = new Map<string, QueueLabels>();

function labels(queue: string): QueueLabels {
  let found = byQueue.get(queue);
  if (found === undefined) {
    const base = { 'messaging.system': SYSTEM, 'messaging.destination.name': queue };
    const operation = (name: string) =>
      Object.freeze({ ...base, 'messaging.operation.name': name, 'messaging.operation.type': name });
    const queueOnly = Object.freeze({ 'messaging.destination.name': queue });
    found = { send: operation('send'), process: operation('process'), queue: queueOnly, outcomes: new Map() };
    byQueue.set(queue, found);
  }
  return found;
}

function outcomeLabels(queue: string, outcome: RunOutcome): TelemetryAttributes {
  const { outcomes } = labels(queue);
  let found = outcomes.get(outcome);
  if (found === undefined) {
    found = Object.freeze({ 'messaging.destination.name': queue, outcome });
    outcomes.set(outcome, found);
  }
  return found;
}

/**
 * Runs an add in a `send <queue>` span when the caller's span records: `message` is the job id of
 * a single add, or the number of jobs of a batch. `send` gets what to store with the jobs (see
 * lib/stamp.lua): '' without the API, '-' (the runnable time only) outside a recording span, else
 * the span's trace context.
 */
export function tracedSend<R>(
  queue: string,
  message: string | number,
  send: (trace: string) => Promise<R>,
): Promise<R> {
  if (!otel.available) return send('');
  const attributes = labels(queue);
  return otel.span(
    `send ${queue}`,
    attributes.send,
    async (span) => {
      let trace = '-';
      if (span !== undefined) {
        if (typeof message === 'number') span.setAttribute('messaging.batch.message_count', message);
        else span.setAttribute('messaging.message.id', message);
        const carrier = otel.carrier();
        if (carrier !== undefined) trace = JSON.stringify(carrier);
      }
      const result = await send(trace);
      sent(typeof message === 'number' ? message : 1, attributes.send);
      return result;
    },
    'producer',
  );
}

/** The telemetry of one job run, from its start to its outcome. */
export interface RunTelemetry {
  readonly queue: string;
  readonly span: RemoteSpan | undefined;
  readonly startedAt: number;
}

/** Counts a leased job, records its lag (first runs only) and starts its `process <queue>` span. */
export function startRun(queue: string, job: LeasedJob): RunTelemetry | undefined {
  if (!otel.available) return undefined;
  const attributes = labels(queue);
  consumed(1, attributes.process);
  // A retried, rescued or retried-dead job keeps the `t` of its first run; only that one is a lag.
  if (job.lagMs !== undefined && job.failures === 0 && job.stalls === 0) {
    lag(Math.max(0, job.lagMs) / 1000, attributes.queue);
  }
  const span = otel.consume(`process ${queue}`, attributes.process, carrierOf(job.trace));
  if (span !== undefined) {
    span.setAttribute('messaging.message.id', job.id);
    span.setAttribute('redis_patterns.queue.job.attempt', job.failures + 1);
    if (job.stalls > 0) span.setAttribute('redis_patterns.queue.job.stalls', job.stalls);
  }
  return { queue, span, startedAt: performance.now() };
}

/** Runs a handler inside the job's span, so that the spans it starts are children of it. */
export function inRun<T>(run: RunTelemetry | undefined, fn: () => T): T {
  return run?.span === undefined ? fn() : run.span.run(fn);
}

/** Ends a run: its duration, and its span with the outcome (and the error of a failed attempt). */
export function endRun(run: RunTelemetry | undefined, outcome: RunOutcome, error?: unknown): void {
  if (run === undefined) return;
  const failed = error !== undefined && outcome !== 'completed';
  const seconds = (performance.now() - run.startedAt) / 1000;
  const { queue } = labels(run.queue);
  const type = error instanceof Error ? errorType(error) : '_OTHER';
  processDuration(seconds, failed ? { ...queue, 'error.type': type } : queue);
  if (run.span !== undefined) {
    run.span.setAttribute('redis_patterns.queue.job.outcome', outcome);
    run.span.end(failed ? error : undefined);
  }
}

/** Counts a run whose outcome Redis recorded (or dropped, `lost`). */
export function countOutcome(queue: string, outcome: RunOutcome): void {
  if (otel.available) jobs(1, outcomeLabels(queue, outcome));
}

/** The stored trace context, or undefined when there is none or it is not what we wrote. */
function carrierOf(text: string | undefined): TraceCarrier | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    const entries = Object.entries(parsed).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    );
    return Object.fromEntries(entries);
  } catch {
    return undefined;
  }
}
