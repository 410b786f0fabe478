import { EventEmitter } from 'node:events';
import { ClosedError, InvalidArgumentError } from '@redis-patterns/connection';
import { checkDuration, checkInteger, checkOptions } from '@redis-patterns/connection/internal';
import {
  readEventHistory,
  readEventsWithInfo,
  STREAM_START,
  type StreamEntry,
  setEventHistory,
} from './commands/index.js';
import { StreamReader, type StreamStart } from './event-stream.js';
import { type Decode, decodeEvent, type QueueEventMap } from './event-types.js';
import { type Queue, type QueueInternals, queueInternals } from './queue.js';
import { MIN_EVENT_HISTORY } from './queue-admin.js';

/** Options of {@link createQueueEvents}. */
export interface QueueEventsOptions {
  /**
   * Where to start: `'now'` (only events written after `createQueueEvents` resolves), or an event
   * id to resume after (a `lastEventId` saved earlier; `'0-0'` replays the whole kept history).
   * @default 'now'
   */
  from?: 'now' | string;
  /**
   * The history length to switch on when the queue writes no events yet (config field `ev`: the
   * scripts append to a stream trimmed to about this many entries). A queue that already writes
   * events keeps its length. 0 leaves the queue's setting alone; otherwise at least 100, the
   * length the `gap` event's count relies on.
   * @default 10_000
   */
  maxLen?: number;
  /** Longest one XREAD blocks before it is issued again; also how soon a silently dead socket is noticed. @default 5000 */
  blockMs?: number;
}

/** A subscriber to a queue's events, from any process; create with {@link createQueueEvents}. */
export interface QueueEvents {
  /** The id of the last event delivered (or the position it started after): save it to resume with `from`. */
  readonly lastEventId: string;
  /** Listens to an event (see {@link QueueEventMap}); without an 'error' listener, errors are dropped. */
  on<K extends keyof QueueEventMap>(event: K, listener: (...args: QueueEventMap[K]) => void): this;
  /** Listens to the next occurrence of an event. */
  once<K extends keyof QueueEventMap>(event: K, listener: (...args: QueueEventMap[K]) => void): this;
  /** Removes a listener. */
  off<K extends keyof QueueEventMap>(event: K, listener: (...args: QueueEventMap[K]) => void): this;
  /** Stops reading (ends the pending XREAD at once) and lets its connection go; idempotent. */
  close(): Promise<void>;
  /** Same as {@link QueueEvents.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const EVENT_ID = /^\d+(-\d+)?$/;

/**
 * Subscribes to the events of `queue`, written by every producer and worker of it in any process.
 * It resolves once its starting position is fixed, so with `from: 'now'` every event written after
 * that is delivered, in stream order, each once.
 *
 * Events come from a capped Redis stream (the queue's history, switched on here when it is off:
 * see `maxLen`). A subscriber whose connection drops reconnects by itself and resumes after its
 * last event: no gap, no duplicate. Events are lost only when more than the history's length were
 * written while it was away or behind; it then emits `gap` with how many it missed (Redis 7.0 or
 * later, and a history of at least 100 events; on older Redis the loss goes unreported). Another
 * process can resume where one stopped by passing its saved `lastEventId` as `from`; if that id is
 * older than the whole history kept, `gap` comes with `missed: undefined` (events after it may be
 * lost, the history cannot tell). The subscriber holds one connection of the connection's blocking
 * pool until `close()`; closing the queue does not close it.
 *
 * @example
 * ```ts
 * const events = await createQueueEvents(queue);
 * events.on('progress', ({ jobId, progress }) => console.log(jobId, progress));
 * events.on('completed', ({ jobId, result }) => console.log(jobId, 'returned', result));
 * events.on('dead', ({ jobId, reason, error }) => console.error(jobId, reason, error));
 * events.on('gap', ({ missed }) => console.warn(`missed ${missed ?? 'some'} events`));
 * // ... later
 * await events.close();
 * ```
 */
export async function createQueueEvents(
  queue: Queue<any>,
  options?: QueueEventsOptions,
): Promise<QueueEvents> {
  const internals = queueInternals(queue);
  const opts = checkOptions('options', options, '{ from?, maxLen?, blockMs? }');
  const from = opts.from ?? 'now';
  if (from !== 'now' && (typeof from !== 'string' || !EVENT_ID.test(from))) {
    throw new InvalidArgumentError('from', "expected 'now' or an event id such as '1700000000000-0'.");
  }
  checkInteger('maxLen', opts.maxLen, 0);
  if (opts.maxLen !== undefined && opts.maxLen > 0 && opts.maxLen < MIN_EVENT_HISTORY) {
    throw new InvalidArgumentError(
      'maxLen',
      `expected 0 (leave the history as it is) or at least ${MIN_EVENT_HISTORY}, got ${opts.maxLen}.`,
    );
  }
  checkDuration('blockMs', opts.blockMs);
  if (internals.isClosed()) throw new ClosedError(`Queue "${queue.name}" was closed; create a new one.`);
  const maxLen = opts.maxLen ?? 10_000;
  // Switched on before the position is read, so the first event after the position is written.
  if (maxLen > 0) await enableEventHistory(internals, maxLen);
  const position = from === 'now' || from.includes('-') ? from : `${from}-0`;
  return startQueueEvents(internals, position, Math.ceil(opts.blockMs ?? 5000));
}

/**
 * A started subscriber (no option checks, no history switch) after `from`: 'now' is the newest id
 * with its count of entries ever added, read in one step so later gaps can be told exactly.
 */
export async function startQueueEvents(
  internals: QueueInternals,
  from: string,
  blockMs: number,
): Promise<QueueEvents> {
  if (from !== 'now') {
    return new QueueEventsReader(internals, {
      afterId: from,
      ordinal: undefined,
      replay: from === STREAM_START,
      blockMs,
    });
  }
  const now = await readEventsWithInfo(internals.conn, internals.keys, STREAM_START, 0);
  const start =
    now === undefined
      ? { afterId: STREAM_START, ordinal: 0 }
      : { afterId: now.info.lastId, ordinal: now.info.entriesAdded };
  return new QueueEventsReader(internals, { ...start, replay: false, blockMs });
}

/**
 * Switches the queue's event history on with `maxLen` unless it is on already. Two steps, not one
 * script: a length another process sets between them is overwritten by `maxLen` (both asked for a
 * history; the last write wins).
 */
export async function enableEventHistory(internals: QueueInternals, maxLen: number): Promise<void> {
  if ((await readEventHistory(internals.conn, internals.keys)) > 0) return;
  await setEventHistory(internals.conn, internals.keys, maxLen);
}

class QueueEventsReader extends EventEmitter<QueueEventMap> implements QueueEvents {
  readonly #reader: StreamReader;
  readonly #decode: Decode;

  constructor(internals: QueueInternals, start: StreamStart) {
    super();
    const { serializer } = internals.options;
    this.#decode = (text, what) => {
      if (text === '') return undefined;
      try {
        return serializer.deserialize(text);
      } catch (err) {
        this.#error(
          new Error(`Could not deserialize ${what}; it is delivered as undefined.`, { cause: err }),
        );
        return undefined;
      }
    };
    this.#reader = new StreamReader(internals.conn, internals.keys, start, {
      entry: (entry) => this.#deliver(entry),
      gap: (afterEventId, missed) => this.#emit('gap', { afterEventId, missed }),
      error: (error) => this.#error(error),
    });
    this.#reader.start();
  }

  get lastEventId(): string {
    return this.#reader.lastId;
  }

  close(): Promise<void> {
    return this.#reader.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #deliver(entry: StreamEntry): void {
    const decoded = decodeEvent(entry, this.#decode);
    if (decoded !== undefined) this.#emit(decoded[0], decoded[1]);
  }

  /** A throwing listener must not stop the reader: it becomes an 'error' event. */
  #emit(name: keyof QueueEventMap, value: unknown): void {
    try {
      (this.emit as (n: string, v: unknown) => boolean)(name, value);
    } catch (err) {
      this.#error(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #error(error: Error): void {
    if (this.listenerCount('error') === 0) return;
    try {
      this.emit('error', error);
    } catch {
      // an 'error' listener that throws has nowhere left to report to
    }
  }
}
