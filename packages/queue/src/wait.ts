import { ClosedError, checkKeyPart, InvalidArgumentError, TimeoutError } from '@redis-patterns/connection';
import { checkDuration, checkOptions } from '@redis-patterns/connection/internal';
import {
  lastEventId,
  readEventsAfter,
  readEventsBefore,
  STREAM_START,
  type StreamEntry,
} from './commands/index.js';
import { JobFailedError } from './errors.js';
import { type DecodedEvent, decodeEvent } from './event-types.js';
import { enableEventHistory, type QueueEvents, startQueueEvents } from './events.js';
import type { JobInfo } from './jobs.js';
import { type Queue, type QueueInternals, queueInternals } from './queue.js';

/** Options of `queue.waitUntilFinished`. */
export interface WaitOptions {
  /** Reject with `TimeoutError` if the job has not finished this long after the call. @default 30000 */
  timeoutMs?: number;
}

/** The history length switched on when a queue writes no events yet. */
const HISTORY = 10_000;
/** Stream entries per catch-up read. */
const CHUNK = 1000;

type Outcome = { result: unknown } | { error: Error };
type Waiter = (outcome: Outcome) => void;

const watches = new WeakMap<Queue<any>, FinishWatch>();

/**
 * Waits for job `id` to finish (see `Queue.waitUntilFinished`). The order closes every race: the
 * stream's last id L is read first, then the job; a job still running is then watched by the
 * queue's shared subscriber (which started at or after L) and the entries after L are read once,
 * so its `completed` or `dead` event is seen whenever it comes. A job already gone when read (it
 * completed and was deleted) is looked up in the history: backwards from L to its `added`, and
 * forwards from L.
 */
export async function waitUntilFinished<R>(queue: Queue<any>, id: string, options?: WaitOptions): Promise<R> {
  const internals = queueInternals(queue);
  checkKeyPart('id', id);
  const opts = checkOptions('options', options, '{ timeoutMs? }');
  checkDuration('timeoutMs', opts.timeoutMs);
  if (internals.isClosed()) throw new ClosedError(`Queue "${queue.name}" was closed; create a new one.`);
  const timeoutMs = Math.ceil(opts.timeoutMs ?? 30_000);
  const decode = (text: string, what: string) => {
    if (text === '') return undefined;
    try {
      return internals.options.serializer.deserialize(text);
    } catch (err) {
      throw new Error(`Could not deserialize ${what}.`, { cause: err });
    }
  };

  return new Promise<R>((resolve, reject) => {
    let done = false;
    let watch: FinishWatch | undefined;
    const finish: Waiter = (outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      watch?.remove(id, finish);
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.result as R);
    };
    const timer = setTimeout(() => {
      const message = `Job "${id}" did not finish within ${timeoutMs} ms; it may still be waiting or running. Call waitUntilFinished again to keep waiting.`;
      finish({ error: new TimeoutError(message, timeoutMs) });
    }, timeoutMs);
    const search = (from: string, direction: 'after' | 'before') =>
      findOutcome(internals, id, from, direction, decode, () => done);

    const run = async () => {
      await enableEventHistory(internals, HISTORY);
      const afterId = await lastEventId(internals.conn, internals.keys);
      const info = await queue.get(id);
      if (done) return;
      const known = outcomeOfInfo(id, info);
      if (known !== undefined) return finish(known);
      if (info === undefined) {
        const before = await search(afterId, 'before');
        if (before !== undefined) return finish(before);
      }
      if (done) return;
      watch = watchFor(queue, internals);
      watch.add(id, finish);
      await watch.ready;
      const after = await search(afterId, 'after');
      if (after !== undefined) return finish(after);
      // Gone before it was read, with no outcome in the history before or after L.
      if (info === undefined)
        finish({
          error: notFound(
            id,
            'was never added, was removed, or finished before the event history reached back to it',
          ),
        });
    };
    run().catch((err: unknown) => finish({ error: err instanceof Error ? err : new Error(String(err)) }));
  });
}

function notFound(id: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError('id', `no job "${id}" to wait for: it ${why}.`);
}

/** The outcome `get` shows, for a job that finished and is kept. */
function outcomeOfInfo(id: string, info: JobInfo<unknown> | undefined): Outcome | undefined {
  if (info?.state === 'completed') return { result: info.result };
  if (info?.state === 'dead') {
    return { error: new JobFailedError(id, info.deadReason ?? 'failed', info.lastError ?? '') };
  }
  return undefined;
}

/** The outcome an event shows for its job, if it is a final one. */
function outcomeOfEvent(event: DecodedEvent): Outcome | undefined {
  const [name, value] = event;
  if (name === 'completed') return { result: value.result };
  if (name === 'dead') return { error: new JobFailedError(value.jobId, value.reason, value.error) };
  if (name === 'cancelled') {
    return { error: new JobFailedError(value.jobId, 'cancelled', value.error || 'cancelled before it ran') };
  }
  if (name === 'removed') return { error: notFound(value.jobId, 'was removed before it finished') };
  return undefined;
}

/**
 * Reads the history from `from` (exclusive) forwards to its end, or backwards to the job's `added`
 * event or the oldest entry kept, for job `id`'s final event; stops early once `stop()` says so.
 */
async function findOutcome(
  internals: QueueInternals,
  id: string,
  from: string,
  direction: 'after' | 'before',
  decode: (text: string, what: string) => unknown,
  stop: () => boolean,
): Promise<Outcome | undefined> {
  const { conn, keys } = internals;
  let cursor = from;
  if (direction === 'before' && cursor === STREAM_START) return undefined;
  for (let first = true; !stop(); first = false) {
    const entries: StreamEntry[] =
      direction === 'after'
        ? await readEventsAfter(conn, keys, cursor, CHUNK)
        : await readEventsBefore(conn, keys, first ? cursor : `(${cursor}`, CHUNK);
    for (const entry of entries) {
      if (entry.fields.get('j') !== id) continue;
      const event = decodeEvent(entry, decode);
      const outcome = event === undefined ? undefined : outcomeOfEvent(event);
      if (outcome !== undefined) return outcome;
      if (direction === 'before' && event?.[0] === 'added') return undefined;
    }
    const last = entries.at(-1);
    if (last === undefined || entries.length < CHUNK) return undefined;
    cursor = last.id;
  }
  return undefined;
}

function watchFor(queue: Queue<any>, internals: QueueInternals): FinishWatch {
  let watch = watches.get(queue);
  if (watch === undefined || watch.closed) {
    watch = new FinishWatch(queue, internals);
    watches.set(queue, watch);
  }
  return watch;
}

/**
 * One subscriber per queue for all of its pending waits (a wait does not hold a connection of its
 * own), started on the first and closed with the last.
 */
class FinishWatch {
  readonly #queue: Queue<any>;
  readonly #waiters = new Map<string, Set<Waiter>>();
  #events: QueueEvents | undefined;
  #closed = false;
  /** Resolves once the subscriber's start is fixed; rejects (and the watch closes) if it cannot be read. */
  readonly ready: Promise<void>;

  constructor(queue: Queue<any>, internals: QueueInternals) {
    this.#queue = queue;
    this.ready = startQueueEvents(internals, 'now', 5000).then(
      (events) => {
        if (this.#closed) {
          void events.close();
          return;
        }
        events.on('completed', (e) => this.#settle(e.jobId, { result: e.result }));
        events.on('dead', (e) => this.#settle(e.jobId, outcomeOfEvent(['dead', e]) as Outcome));
        events.on('cancelled', (e) => this.#settle(e.jobId, outcomeOfEvent(['cancelled', e]) as Outcome));
        events.on('removed', (e) => this.#settle(e.jobId, outcomeOfEvent(['removed', e]) as Outcome));
        events.on('gap', () => void this.#recheck());
        events.on('error', (err) => {
          if (err instanceof ClosedError)
            for (const id of [...this.#waiters.keys()]) this.#settle(id, { error: err });
        });
        this.#events = events;
      },
      (err: unknown) => {
        this.#close();
        throw err;
      },
    );
    this.ready.catch(() => {}); // each waiter awaits it and handles the rejection
  }

  get closed(): boolean {
    return this.#closed;
  }

  add(id: string, waiter: Waiter): void {
    const set = this.#waiters.get(id) ?? new Set();
    set.add(waiter);
    this.#waiters.set(id, set);
  }

  remove(id: string, waiter: Waiter): void {
    const set = this.#waiters.get(id);
    if (set === undefined) return;
    set.delete(waiter);
    if (set.size === 0) this.#waiters.delete(id);
    if (this.#waiters.size === 0) this.#close();
  }

  #settle(id: string, outcome: Outcome): void {
    const set = this.#waiters.get(id);
    if (set !== undefined) for (const waiter of [...set]) waiter(outcome);
  }

  /** Events were trimmed unread: a waited-for job may have finished among them, so ask each job. */
  async #recheck(): Promise<void> {
    for (const id of [...this.#waiters.keys()]) {
      const info = await this.#queue.get(id).catch(() => null);
      if (info === null) continue; // unreadable now: its own timeout still bounds the wait
      const outcome =
        outcomeOfInfo(id, info) ??
        (info === undefined
          ? { error: notFound(id, 'finished while its outcome was trimmed from the event history') }
          : undefined);
      if (outcome !== undefined) this.#settle(id, outcome);
    }
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (watches.get(this.#queue) === this) watches.delete(this.#queue);
    void this.#events?.close();
  }
}
