/**
 * OpenTelemetry of the leaderboards (plain, periodic and matrix boards alike): a `leaderboard <op>`
 * span per public call when a tracer records (`leaderboard matrix.submit` for a matrix's own calls,
 * one `leaderboard iterate` per page an iterator reads), with the board's name as an attribute,
 * and the `redis_patterns.leaderboard.operations` counter by operation. Without `@opentelemetry/api`
 * installed, each costs one no-op call.
 */
import { createRequire } from 'node:module';
import {
  type RecordValue,
  type TelemetryAttributes,
  telemetry,
  traceInspector,
} from '@redis-patterns/connection/internal';
import type { LeaderboardInspector } from './inspect.js';
import type { LeaderboardMatrix } from './matrix-types.js';
import type { PeriodicLeaderboard } from './periodic.js';
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

/** Operations outside a board's own methods. */
type Other = 'iterate' | 'aggregate' | 'matrix.submit' | 'matrix.entry' | 'matrix.top';

const OTHER_LABELS = new Map<Other, TelemetryAttributes>(
  (['iterate', 'aggregate', 'matrix.submit', 'matrix.entry', 'matrix.top'] as const).map((op) => [
    op,
    Object.freeze({ operation: op }),
  ]),
);

/** Counts `op` and runs `call` in its span; `attributes` are built once per caller and operation. */
function traceOther(op: Other, name: string) {
  const label = OTHER_LABELS.get(op) as TelemetryAttributes;
  const attributes = Object.freeze({
    'db.system.name': 'redis',
    'db.operation.name': op,
    'redis_patterns.leaderboard.name': name,
  });
  return <T>(call: () => Promise<T>): Promise<T> => {
    operations(1, label);
    return otel.span(`leaderboard ${op}`, attributes, call);
  };
}

/** The tracer of the page reads of a board's iterators: one `leaderboard iterate` span per page. */
export function tracePages(name: string): <T>(read: () => Promise<T>) => Promise<T> {
  return traceOther('iterate', name);
}

/** `periodic` with `aggregate` traced (its other writes are traced by the cycle's board). */
export function instrumentPeriodic<TData>(periodic: PeriodicLeaderboard<TData>): PeriodicLeaderboard<TData> {
  const traced = traceOther('aggregate', periodic.name);
  return { ...periodic, aggregate: (cycles, options) => traced(() => periodic.aggregate(cycles, options)) };
}

/** `matrix` with its atomic writes and reads across boards traced (its `board()` boards trace themselves). */
export function instrumentMatrix<TData>(matrix: LeaderboardMatrix<TData>): LeaderboardMatrix<TData> {
  const submit = traceOther('matrix.submit', matrix.name);
  const entry = traceOther('matrix.entry', matrix.name);
  const top = traceOther('matrix.top', matrix.name);
  return {
    ...matrix,
    submit: (member, score, options) => submit(() => matrix.submit(member, score, options)),
    entry: (member, options) => entry(() => matrix.entry(member, options)),
    top: (id, n, options) => top(() => matrix.top(id, n, options)),
  };
}

/** `inspector` with every call but `ping` and `close` in a `leaderboard inspect.<method>` span (its reads of a board add that board's spans inside). */
export function instrumentLeaderboardInspector(inspector: LeaderboardInspector): LeaderboardInspector {
  return traceInspector(otel, 'leaderboard', inspector, ['list', 'size', 'top', 'around', 'remove', 'clear']);
}
