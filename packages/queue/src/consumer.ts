import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ClosedError } from '@redis-patterns/connection';
import { checkBoolean, checkDuration, checkOptions, checkRenamed } from '@redis-patterns/connection/internal';
import { BlockingFetch } from './blocking-fetch.js';
import { Cancellations } from './cancellations.js';
import { type ExchangeReply, exchange, type LeasedJob, releaseJobs } from './commands/index.js';
import { FetchGate } from './fetch-gate.js';
import { Housekeeping } from './housekeeping.js';
import { JobRuns } from './job-runs.js';
import { decodeJobData } from './jobs.js';
import type { QueueInternals } from './queue.js';
import { type Run, toError } from './running-job.js';
import { drainWorker, IdleWaiters } from './shutdown.js';
import type { JobHandler, ResolvedWorkerOptions, StopOptions, Worker, WorkerEvents } from './worker.js';

type State = 'idle' | 'running' | 'stopping' | 'stopped';

/** Jobs per script call (settled or fetched): keeps Lua's unpack() and the replies small. */
const BATCH = 1000;

/**
 * The worker behind {@link createWorker}: its lifecycle and its fetch loop. One exchange at a time
 * settles finished jobs and leases new ones; job-runs.ts runs the handlers, blocking-fetch.ts waits
 * on an empty queue, housekeeping.ts renews leases and rescues stalled jobs, shutdown.ts drains.
 */
export class QueueWorker<T> extends EventEmitter<WorkerEvents<T>> implements Worker<T> {
  readonly #q: QueueInternals;
  readonly #o: ResolvedWorkerOptions<T>;
  readonly #token = randomUUID();
  readonly #link = { dueIn: (ms: number) => this.#housekeeping.dueIn(ms), stop: () => this.stop() };
  readonly #housekeeping: Housekeeping;
  readonly #runs: JobRuns<T>;
  readonly #fetch: BlockingFetch;
  readonly #idle = new IdleWaiters();
  #state: State = 'idle';
  #claim: string | undefined;
  readonly #gate: FetchGate;
  #exchanging = false;
  #pumpScheduled = false;
  #faults = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;
  #closed = false;

  constructor(q: QueueInternals, handler: JobHandler<T>, o: ResolvedWorkerOptions<T>) {
    super();
    this.#q = q;
    this.#o = o;
    this.#runs = new JobRuns(q, {
      handler,
      options: o,
      settleSoon: () => this.#schedulePump(),
      dueIn: (ms) => this.#housekeeping.dueIn(ms),
      token: this.#token,
      emit: (name, ...args) => this.#emit(name, ...args),
      error: (error) => this.#emitError(error),
    });
    this.#fetch = new BlockingFetch(q.conn, q.keys, o.pollIntervalMs, {
      running: () => this.#state === 'running',
      freeSlots: () => this.#freeSlots(),
      claimed: (id) => {
        this.#claim = id;
        this.#schedulePump();
      },
      release: (flat) => this.#release(flat),
      fault: (err) => this.#fault(err),
      // A quiet poll: look at prioritized and grouped jobs too (their wake marker may be lost).
      timedOut: () => this.#schedulePump(),
      settled: () => this.#checkIdle(),
    });
    this.#housekeeping = new Housekeeping(q, {
      token: this.#token,
      leaseMs: o.leaseMs,
      maxStalls: o.maxStalls,
      pollIntervalMs: o.pollIntervalMs,
      runs: () => this.#runs.renewable(),
      lose: (run) => this.#runs.lose(run as Run<T>),
      cancel: (id) => this.#runs.cancel(id),
      stalled: (id, stalls) => this.#emit('stalled', id, stalls),
      dead: (id, error) => this.#emit('dead', id, 'stalled', error),
      error: (error) => this.#emitError(error),
    });
    this.#gate = new FetchGate(o.pollIntervalMs, () => this.#schedulePump(), {
      cancellations: new Cancellations(q.conn, q.keys, (id) => this.#runs.cancel(id)),
    });
  }

  get running(): boolean {
    return this.#state === 'running';
  }

  get activeCount(): number {
    return this.#runs.size;
  }

  start(): void {
    if (this.#closed) throw new ClosedError('The worker was closed; create a new one.');
    if (this.#state === 'running') return;
    if (this.#state === 'stopping') throw new ClosedError('The worker is stopping; await stop() first.');
    if (this.#q.isClosed()) throw new ClosedError('The queue was closed; create a new one.');
    this.#state = 'running';
    this.#stopping = undefined;
    this.#q.workers.add(this.#link);
    this.#housekeeping.start();
    this.#gate.listen();
  }

  stop(given?: StopOptions): Promise<void> {
    const options = checkOptions('options', given, '{ graceful?, drainTimeoutMs? }');
    checkRenamed(options, { timeoutMs: 'drainTimeoutMs' });
    checkBoolean('graceful', options.graceful);
    checkDuration('drainTimeoutMs', options.drainTimeoutMs, { allowZero: true });
    if (this.#stopping !== undefined) return this.#stopping;
    if (this.#state !== 'running') return Promise.resolve();
    this.#state = 'stopping';
    this.#stopping = drainWorker(
      {
        stopFetching: () => {
          this.#housekeeping.stopChecking();
          this.#fetch.wake();
        },
        waitIdle: (ms) => this.#waitIdle(ms),
        abandonUnfinished: (reason) => this.#runs.abandonUnfinished(reason),
        release: (flat, ms) => this.#release(flat, ms),
        close: (ms) => this.#closeStopped(ms),
      },
      options.graceful ?? true,
      options.drainTimeoutMs ?? 30_000,
    );
    return this.#stopping;
  }

  close(options?: StopOptions): Promise<void> {
    const stopped = this.stop(options);
    this.#closed = true;
    return stopped;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- fetching and settling: one script call at a time -------------------------------------

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    // setImmediate rather than a microtask: handlers that finish in the same I/O turn share one call.
    setImmediate(() => {
      this.#pumpScheduled = false;
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#exchanging || this.#retryTimer !== undefined || !this.#gate.open) return;
    this.#gate.fetching();
    const settle = this.#runs.takeOutcomes(BATCH);
    const claim = this.#claim;
    this.#claim = undefined;
    const blocking = this.#fetch.blocking;
    const holding = this.#runs.size - settle.length + (blocking ? 1 : 0) + (claim ? 1 : 0);
    const want = this.#state === 'running' && !blocking ? Math.min(BATCH, this.#o.concurrency - holding) : 0;
    if (settle.length === 0 && claim === undefined && want <= 0) return this.#checkIdle();
    const { conn, keys, options } = this.#q;
    this.#exchanging = true;
    const sentAt = performance.now();
    let reply: ExchangeReply;
    try {
      reply = await exchange(conn, keys, {
        token: this.#token,
        leaseMs: this.#o.leaseMs,
        want: Math.max(0, want),
        claim,
        keepCompleted: options.keepCompleted,
        keepDead: options.keepDead,
        settle,
      });
    } catch (err) {
      // Unknown whether it ran: settling again is safe (a repeat finds the job gone and reports it lost).
      this.#runs.restoreOutcomes(settle);
      this.#claim ??= claim;
      this.#exchanging = false;
      this.#fault(err);
      return;
    }
    this.#exchanging = false;
    this.#faults = 0;
    this.#runs.settled(settle, new Set(reply.lost));
    this.#startJobs(reply.leased, sentAt);
    // Fewer than asked for (the claimed id included): the queue is empty (block until a job
    // comes), or holds jobs back, or the claimed id was taken back (paused, at a limit, cancelled).
    const asked = Math.max(0, want) + (claim ? 1 : 0);
    const short = this.#state === 'running' && asked > 0 && reply.leased.length < asked;
    if (short && reply.hold !== 0) this.#gate.holdOff(reply.hold);
    else if (short) this.#fetch.block();
    const more = want > 0 && !short && this.#freeSlots() > 0;
    if (this.#runs.unsettled > 0 || this.#claim !== undefined || more) this.#schedulePump();
    this.#checkIdle();
  }

  #freeSlots(): number {
    return this.#o.concurrency - this.#runs.size - (this.#fetch.blocking ? 1 : 0) - (this.#claim ? 1 : 0);
  }

  /** Starts the handlers of the jobs just leased, or gives them back if the worker is stopping. */
  #startJobs(leased: LeasedJob[], sentAt: number): void {
    const giveBack: string[] = [];
    for (const job of leased) {
      if (this.#state !== 'running') giveBack.push(job.id, '1');
      else this.#runs.start(job, decodeJobData(job.data), job.failures, sentAt);
    }
    if (giveBack.length > 0) void this.#release(giveBack);
  }

  #fault(err: unknown): void {
    this.#emitError(toError(err));
    // A stopped worker retries nothing: after stop() gave up on Redis, no timer may keep the process alive.
    if (this.#retryTimer !== undefined || this.#state === 'stopped') return;
    const delay = Math.min(2000, 50 * 2 ** Math.min(this.#faults++, 6)) * (0.5 + Math.random() / 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#schedulePump();
    }, delay);
  }

  // ---- stopping -------------------------------------------------------------------------------

  async #release(flat: string[], timeoutMs?: number): Promise<void> {
    if (flat.length === 0) return;
    try {
      await releaseJobs(this.#q.conn, this.#q.keys, this.#token, flat, timeoutMs);
    } catch (err) {
      // Their leases expire and the stalled-job check puts them back (counting a stall).
      this.#emitError(toError(err));
    }
  }

  /** The end of a stop: whatever the drain left is the stalled-job check's now. */
  async #closeStopped(timeoutMs: number): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const closing = this.#gate.close();
    this.#housekeeping.stopRenewing();
    this.#fetch.close();
    this.#q.workers.delete(this.#link);
    this.#state = 'stopped';
    this.#stopping = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closing, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  #isIdle(): boolean {
    return (
      this.#runs.size === 0 &&
      this.#runs.unsettled === 0 &&
      this.#claim === undefined &&
      !this.#exchanging &&
      !this.#fetch.blocking
    );
  }

  #waitIdle(timeoutMs: number): Promise<void> {
    if (this.#isIdle() || timeoutMs <= 0) return Promise.resolve();
    const idle = this.#idle.wait(timeoutMs);
    this.#schedulePump();
    return idle;
  }

  #checkIdle(): void {
    if (!this.#idle.waiting || !this.#isIdle()) return;
    this.#idle.wake();
  }

  // ---- events ---------------------------------------------------------------------------------

  /** A throwing listener must not break the worker's bookkeeping: it becomes an 'error' event. */
  #emit(name: 'completed' | 'failed' | 'dead' | 'stalled', ...args: unknown[]): void {
    try {
      (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args);
    } catch (err) {
      this.#emitError(toError(err));
    }
  }

  #emitError(error: Error): void {
    if (this.listenerCount('error') === 0) return;
    try {
      this.emit('error', error);
    } catch {
      // an 'error' listener that throws has nowhere left to report to
    }
  }
}
