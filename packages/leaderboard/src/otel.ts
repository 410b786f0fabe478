/**
 * OpenTelemetry of the leaderboards (plain, periodic and matrix boards alike): a `leaderboard <op>`
 * span per public call when a tracer records, with the board's name as an attribute, and the
 * `redis_patterns.leaderboard.operations` counter by operation. Without `@opentelemetry/api`
 * installed, each costs one no-op call.
 */
import { createRequire } from 'node:module';
import { type RecordValue, type TelemetryAttributes, telemetry } from '@redis-patterns/connection/internal';
import type { Leaderboard } from './types.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const otel = telemetry('@redis-patterns/leaderboard', version);

const operations: RecordValue = otel.counter('redis_patterns.leaderboard.operations', {
  description: 'Calls of the public operations of leaderboards, by operation.',
  unit: '{operation}',
});

/** The traced operations: every method that returns a promise (`iterate` pages through `page`-like reads of its own). */
const TRACED = [
  'submit',
  'increment',
  'submitMany',
  'remove',
  'clear',
  'score',
  'rank',
  'entry',
  'top',
  'page',
  'around',
  'atRank',
  'rankedList',
  'among',
  'percentile',
  'count',
  'scoreRange',
] as const satisfies ReadonlyArray<keyof Leaderboard>;

type Traced = (typeof TRACED)[number];

const LABELS = new Map<Traced, TelemetryAttributes>(
  TRACED.map((op) => [op, Object.freeze({ operation: op })]),
);

/** `board` with every promise-returning operation traced and counted. */
export function instrumentBoard<TData>(board: Leaderboard<TData>): Leaderboard<TData> {
  const traced = { ...board } as Record<Traced, (...args: unknown[]) => Promise<unknown>>;
  for (const op of TRACED) {
    const call = board[op] as (...args: unknown[]) => Promise<unknown>;
    const label = LABELS.get(op) as TelemetryAttributes;
    let attributes: TelemetryAttributes | undefined;
    traced[op] = (...args) => {
      operations(1, label);
      attributes ??= Object.freeze({
        'db.system.name': 'redis',
        'db.operation.name': op,
        'redis_patterns.leaderboard.name': board.name,
      });
      return otel.span(`leaderboard ${op}`, attributes, () => call(...args));
    };
  }
  return traced as unknown as Leaderboard<TData>;
}
