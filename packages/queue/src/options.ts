import {
  checkKeyPart,
  InvalidArgumentError,
  jsonSerializer,
  type RedisLike,
  type Serializer,
} from '@redis-patterns/connection';
import {
  checkDuration,
  checkInteger,
  checkOptions,
  checkSerializer,
} from '@redis-patterns/connection/internal';

/**
 * How long to wait before the next attempt after a failure: `fixed` waits `delayMs` every time,
 * `exponential` waits `delayMs * 2^(failures - 1)`, capped at `maxDelayMs`.
 */
export type Backoff = FixedBackoff | ExponentialBackoff;

/** The same wait before every retry. */
export interface FixedBackoff {
  /** The kind of backoff. */
  type: 'fixed';
  /** The wait before each retry. */
  delayMs: number;
}

/** A wait that doubles with each failure. */
export interface ExponentialBackoff {
  /** The kind of backoff. */
  type: 'exponential';
  /** The wait before the first retry. */
  delayMs: number;
  /** The longest wait. @default 3_600_000 (1 hour) */
  maxDelayMs?: number;
}

/** Options of one job, given to `add` (or as the queue's `defaultJobOptions`). */
export interface JobOptions {
  /** The job's id; adding an id that exists already is a no-op (`added: false`). @default a random UUID */
  id?: string;
  /** Run no earlier than this many milliseconds from now (server clock). @default 0 */
  delayMs?: number;
  /** Runs in total before the job goes to the dead-letter set; 1 means no retry. @default 3 */
  attempts?: number;
  /** Wait between attempts. @default { type: 'exponential', delayMs: 1000, maxDelayMs: 3_600_000 } */
  backoff?: Backoff;
  /**
   * An integer from 0 to 1,000,000: a job with a higher priority is taken before every job with a
   * lower one, and jobs of one priority first in, first out. 0 is the plain FIFO list, taken after
   * every prioritized job. Delayed, retried and rescued jobs keep their priority.
   * @default 0
   */
  priority?: number;
  /**
   * The job's group (a tenant, a user, an account): the queue runs the jobs of one group first in,
   * first out, takes one per group in turn, and holds a group at the per-group limits of
   * `setLimits({ group })`. Not together with `priority`.
   * @default none
   */
  group?: string;
  /**
   * Each attempt may run this long: then its handler's `signal` aborts with a `JobTimeoutError` and
   * the attempt counts as failed (retried while attempts remain), whatever the handler returns.
   * @default no limit
   */
  timeoutMs?: number;
}

/** How many finished jobs to keep: the newest `count`, none older than `ageMs`; omit a field for no limit on it. */
export interface Retention {
  /** Keep at most this many (the newest). @default no limit */
  count?: number;
  /** Drop them once older than this. @default no limit */
  ageMs?: number;
}

/** Options of {@link createQueue}. */
export interface QueueOptions {
  /** A connection from `@redis-patterns/connection` or a node-redis client, cluster or sentinel. */
  redis: RedisLike;
  /** The queue's name; it is the hash tag of all its keys, so one queue lives in one Cluster slot. */
  name: string;
  /** Prefix of every key. @default 'queue:' */
  prefix?: string;
  /** Options for jobs that do not set their own. @default { attempts: 3, backoff: exponential from 1 s } */
  defaultJobOptions?: Omit<JobOptions, 'id' | 'group'>;
  /**
   * Encodes payloads and kept results as text and decodes them (`deserialize` always gets the
   * string `serialize` returned). A serializer that returns bytes fails `add` with
   * `InvalidArgumentError`; a result it cannot encode is kept empty.
   * @default jsonSerializer
   */
  serializer?: Serializer;
  /** A payload larger than this (UTF-8 bytes, serialized) is refused at `add`. @default 524288 (512 KiB) */
  maxPayloadBytes?: number;
  /** Completed jobs to keep (with their result) for `get`/`peek`. @default none: deleted on completion, only counted */
  keepCompleted?: Retention;
  /** Dead jobs to keep for inspection and `retryDead`. @default { count: 10_000 } */
  keepDead?: Retention;
}

/** A {@link Retention} as the scripts take it: count -1 for no limit, ageMs 0 for no limit. */
export interface ResolvedRetention {
  count: number;
  ageMs: number;
}

/** Queue options with every default applied. */
export interface ResolvedQueueOptions {
  prefix: string;
  attempts: number;
  backoff: Backoff;
  delayMs: number;
  priority: number;
  timeoutMs: number | undefined;
  serializer: Serializer;
  maxPayloadBytes: number;
  keepCompleted: ResolvedRetention;
  keepDead: ResolvedRetention;
}

const DEFAULT_BACKOFF_MAX_MS = 3_600_000;
/** The highest job priority: priority × 2^32 plus a sequence must stay exact in a double. */
export const MAX_PRIORITY = 1_000_000;
const DEFAULT_BACKOFF: Backoff = { type: 'exponential', delayMs: 1000, maxDelayMs: DEFAULT_BACKOFF_MAX_MS };

/** Validates the queue options and applies the defaults (the one place they live). */
export function resolveQueueOptions(options: QueueOptions): ResolvedQueueOptions {
  checkOptions('options', options, 'an object with at least { redis, name }');
  const defaults = checkOptions(
    'defaultJobOptions',
    options.defaultJobOptions,
    '{ delayMs?, attempts?, backoff?, priority?, group?, timeoutMs? }',
  );
  checkJobOptions('defaultJobOptions', defaults);
  checkInteger('maxPayloadBytes', options.maxPayloadBytes, 1);
  const serializer = checkSerializer('serializer', options.serializer, jsonSerializer);
  return {
    prefix: options.prefix ?? 'queue:',
    attempts: defaults.attempts ?? 3,
    backoff: defaults.backoff ?? DEFAULT_BACKOFF,
    delayMs: defaults.delayMs ?? 0,
    priority: defaults.priority ?? 0,
    timeoutMs: defaults.timeoutMs,
    serializer,
    maxPayloadBytes: options.maxPayloadBytes ?? 524_288,
    keepCompleted: resolveRetention('keepCompleted', options.keepCompleted, { count: 0, ageMs: 0 }),
    keepDead: resolveRetention('keepDead', options.keepDead, { count: 10_000, ageMs: 0 }),
  };
}

function resolveRetention(
  name: string,
  value: Retention | undefined,
  fallback: ResolvedRetention,
): ResolvedRetention {
  if (value === undefined) return fallback;
  if (value === null || typeof value !== 'object') {
    throw new InvalidArgumentError(name, 'expected { count?, ageMs? }.');
  }
  checkInteger(`${name}.count`, value.count, 0);
  checkDuration(`${name}.ageMs`, value.ageMs);
  return { count: value.count ?? -1, ageMs: Math.ceil(value.ageMs ?? 0) };
}

/** Throws {@link InvalidArgumentError} for a bad job option; `at` names the argument (e.g. `jobs[3].options`). */
export function checkJobOptions(at: string, options: JobOptions): void {
  checkOptions(at, options, '{ id?, delayMs?, attempts?, backoff?, priority?, group?, timeoutMs? }');
  checkDuration(`${at}.delayMs`, options.delayMs, { allowZero: true });
  checkInteger(`${at}.attempts`, options.attempts, 1);
  checkInteger(`${at}.priority`, options.priority, 0);
  if (options.priority !== undefined && options.priority > MAX_PRIORITY) {
    throw new InvalidArgumentError(
      `${at}.priority`,
      `expected at most ${MAX_PRIORITY}, got ${options.priority}.`,
    );
  }
  checkDuration(`${at}.timeoutMs`, options.timeoutMs);
  if (options.group !== undefined) {
    checkKeyPart(`${at}.group`, options.group);
    if (options.priority !== undefined && options.priority > 0) {
      throw new InvalidArgumentError(
        `${at}.group`,
        'cannot be combined with a priority: jobs of a group run in the order they were added.',
      );
    }
  }
  const backoff = options.backoff;
  if (backoff === undefined) return;
  if (backoff === null || (backoff.type !== 'fixed' && backoff.type !== 'exponential')) {
    throw new InvalidArgumentError(`${at}.backoff`, "expected { type: 'fixed' | 'exponential', delayMs }.");
  }
  checkDuration(`${at}.backoff.delayMs`, backoff.delayMs, { allowZero: true });
  if (backoff.delayMs === undefined) {
    throw new InvalidArgumentError(`${at}.backoff.delayMs`, 'is required.');
  }
  if (backoff.type === 'exponential') checkDuration(`${at}.backoff.maxDelayMs`, backoff.maxDelayMs);
}

/** The compact form stored in the job hash: `f:<ms>` or `e:<ms>:<max ms>`. */
export function encodeBackoff(backoff: Backoff): string {
  const delay = Math.ceil(backoff.delayMs);
  if (backoff.type === 'fixed') return `f:${delay}`;
  return `e:${delay}:${Math.ceil(backoff.maxDelayMs ?? DEFAULT_BACKOFF_MAX_MS)}`;
}

/** Milliseconds to wait before the next attempt, after the `failures`-th failure (1-based). */
export function backoffDelay(encoded: string | null, failures: number): number {
  if (encoded === null) return 0;
  const [type, delay = '0', max = '0'] = encoded.split(':');
  if (type === 'f') return Number(delay);
  return Math.min(Number(max), Number(delay) * 2 ** Math.min(failures - 1, 40));
}
