import { dueSchedules, fireSchedule } from './commands/index.js';
import type { QueueInternals } from './queue.js';
import { toError } from './running-job.js';
import { parseSpec } from './schedule-spec.js';
import { planFire } from './schedule-times.js';

/** What a scheduler needs from its worker. */
export interface ScheduleRunnerHost {
  /** Longest a schedule written by another process waits before this scheduler sees it. */
  readonly pollIntervalMs: number;
  /** A background failure (Redis unreachable, a spec this version cannot read). */
  error(error: Error): void;
}

/** Due schedules per read: a tick with this many fires reads again at once. */
const BATCH = 100;

// The schedulers running in this process, by their queue's `schednext` key: an upsert here wakes
// them, so a schedule written in this process is seen at once rather than at the next poll.
const local = new Map<string, Set<ScheduleRunner>>();

/** Wakes this process's schedulers of the queue whose `schednext` key is `key`. */
export function wakeSchedulers(key: string): void {
  for (const runner of local.get(key) ?? []) runner.wake();
}

/**
 * The scheduler every started worker runs: it fires the queue's due schedules. Any number of them,
 * in any number of processes, may race on one due time: schedule-fire.lua lets exactly one advance
 * it, so each occurrence is enqueued once. Nothing is held in memory between ticks (no leader, no
 * lease), so a scheduler killed at any point leaves nothing to recover: the next one to read the
 * due time fires it.
 */
export class ScheduleRunner {
  readonly #q: QueueInternals;
  readonly #host: ScheduleRunnerHost;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  #again = false;
  /** Specs already reported as unreadable, so a tick does not report them again. */
  readonly #reported = new Set<string>();

  constructor(q: QueueInternals, host: ScheduleRunnerHost) {
    this.#q = q;
    this.#host = host;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const key = this.#q.keys.scheduleNext;
    const set = local.get(key) ?? new Set();
    set.add(this);
    local.set(key, set);
    this.wake();
  }

  /** Stops firing; resolves once a tick in flight has finished. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const key = this.#q.keys.scheduleNext;
    const set = local.get(key);
    set?.delete(this);
    if (set?.size === 0) local.delete(key);
    await this.#tick;
  }

  /** Reads the due schedules now (or right after the tick in flight). */
  wake(): void {
    if (!this.#running) return;
    if (this.#tick !== undefined) {
      this.#again = true;
      return;
    }
    this.#plan(0);
  }

  #plan(ms: number): void {
    clearTimeout(this.#timer);
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#tick = this.#run().finally(() => {
        this.#tick = undefined;
      });
    }, ms);
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    let waitMs = this.#host.pollIntervalMs;
    try {
      waitMs = Math.min(waitMs, await this.#fireDue());
    } catch (err) {
      if (this.#running) this.#host.error(toError(err));
    }
    if (this.#again) waitMs = 0;
    this.#again = false;
    this.#plan(waitMs);
  }

  /** Fires what is due; returns ms until the next known due time. */
  async #fireDue(): Promise<number> {
    const { conn, keys } = this.#q;
    const read = await dueSchedules(conn, keys, BATCH);
    const readAt = performance.now();
    let earliest = read.nextDue ?? Number.POSITIVE_INFINITY;
    let readable = 0;
    // One script call per due schedule, sent together: the connection pipelines them.
    const fires = read.due.map(async ({ id, spec: text, due }) => {
      const spec = parseSpec(text);
      if (spec === undefined) {
        this.#report(id, text);
        return;
      }
      readable++;
      const plan = planFire(spec, due, read.now);
      if (plan.next !== null) earliest = Math.min(earliest, plan.next);
      if (!this.#running) return;
      await fireSchedule(conn, keys, {
        id,
        due,
        spec: text,
        enqueue: plan.enqueue,
        data: spec.d,
        priority: spec.p,
        group: spec.g,
        next: plan.next,
      });
    });
    await Promise.all(fires);
    // A full batch: more may be due. (Unless it held only specs this version cannot read, which
    // would come back first in every read.)
    if (read.due.length >= BATCH && readable > 0) return 0;
    return Math.max(0, earliest - read.now - (performance.now() - readAt));
  }

  #report(id: string, text: string): void {
    if (this.#reported.has(text)) return;
    this.#reported.add(text);
    this.#host.error(
      new Error(
        `Schedule "${id}" has a spec this version of @redis-patterns/queue cannot read; it is not fired here.`,
      ),
    );
  }
}
