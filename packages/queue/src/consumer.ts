import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ClosedError, type DedicatedConnection, OwnershipLostError } from '@redis-patterns/connection';
import { checkBoolean, checkDuration, checkOptions, checkRenamed } from '@redis-patterns/connection/internal';
import { Housekeeping } from './housekeeping.js';
import { decodeJobData, type JobData } from './jobs.js';
import { backoffDelay } from './options.js';
import type { QueueInternals } from './queue.js';
import {
  describeError,
  lostError,
  type Run,
  RunningJob,
  type Settlement,
  serializeResult,
  toError,
} from './running-job.js';
import { exchange, releaseJobs } from './scripts.js';
import type { JobHandler, StopOptions, Worker, WorkerEvents, WorkerOptions } from './worker.js';

type State = 'idle' | 'running' | 'stopping' | 'stopped';

/** Jobs per script call (settled or fetched): keeps Lua's unpack() and the replies small. */
const BATCH = 1000;

/** Worker options with every default applied. */
export interface ResolvedWorkerOptions<T> {
  concurrency: number;
  leaseMs: number;
  maxStalls: number;
  pollIntervalMs: number;
  backoff: WorkerOptions<T>['backoff'];
}

/** The worker behind {@link createWorker}. */
export class QueueWorker<T> extends EventEmitter<WorkerEvents<T>> implements Worker<T> {
  readonly #q: QueueInternals;
  readonly #handler: JobHandler<T>;
  readonly #o: ResolvedWorkerOptions<T>;
  readonly #token = randomUUID();
  readonly #link = { dueIn: (ms: number) => this.#housekeeping.dueIn(ms), stop: () => this.stop() };
  readonly #housekeeping: Housekeeping;
  #state: State = 'idle';
  readonly #runs = new Map<string, Run<T>>();
  #settled: Array<Settlement<T>> = [];
  #claim: string | undefined;
  #exchanging = false;
  #blocking = false;
  #pumpScheduled = false;
  #blocker: DedicatedConnection | undefined;
  /** The blocking connection's CLIENT ID, to wake its BLMOVE at stop (undefined if CLIENT is not allowed). */
  #blockerId: string | undefined;
  #faults = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #idleWaiters: Array<() => void> = [];
  #stopping: Promise<void> | undefined;
  #closed = false;

  constructor(q: QueueInternals, handler: JobHandler<T>, o: ResolvedWorkerOptions<T>) {
    super();
    this.#q = q;
    this.#handler = handler;
    this.#o = o;
    this.#housekeeping = new Housekeeping(q, {
      token: this.#token,
      leaseMs: o.leaseMs,
      maxStalls: o.maxStalls,
      pollIntervalMs: o.pollIntervalMs,
      runs: () => [...this.#runs.values()].filter((r) => !r.released && !r.lost),
      lose: (run) => this.#lose(run as Run<T>),
      stalled: (id, stalls) => this.#emit('stalled', id, stalls),
      dead: (id, error) => this.#emit('dead', id, 'stalled', error),
      error: (error) => this.#emitError(error),
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
    this.#schedulePump();
  }

  stop(given?: StopOptions): Promise<void> {
    const options = checkOptions('options', given, '{ graceful?, drainTimeoutMs? }');
    checkRenamed(options, { timeoutMs: 'drainTimeoutMs' });
    checkBoolean('graceful', options.graceful);
    checkDuration('drainTimeoutMs', options.drainTimeoutMs, { allowZero: true });
    if (this.#stopping !== undefined) return this.#stopping;
    if (this.#state !== 'running') return Promise.resolve();
    this.#state = 'stopping';
    this.#stopping = this.#shutdown(options.graceful ?? true, options.drainTimeoutMs ?? 30_000);
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
    if (this.#exchanging || this.#retryTimer !== undefined) return;
    const settle = this.#settled.splice(0, BATCH);
    const claim = this.#claim;
    this.#claim = undefined;
    const holding = this.#runs.size - settle.length + (this.#blocking ? 1 : 0) + (claim ? 1 : 0);
    const want =
      this.#state === 'running' && !this.#blocking ? Math.min(BATCH, this.#o.concurrency - holding) : 0;
    if (settle.length === 0 && claim === undefined && want <= 0) return this.#checkIdle();
    const { keys, options } = this.#q;
    const args = [
      this.#token,
      String(this.#o.leaseMs),
      String(Math.max(0, want)),
      claim ?? '',
      String(options.keepCompleted.count),
      String(options.keepCompleted.ageMs),
      String(options.keepDead.count),
      String(options.keepDead.ageMs),
      String(settle.length),
    ];
    for (const s of settle) args.push(s.run.job.id, s.outcome, s.text, String(s.delayMs));
    this.#exchanging = true;
    const sentAt = performance.now();
    let reply: [string[], Array<string | null>, number];
    try {
      reply = await this.#q.conn.runScript(
        exchange,
        [
          keys.waiting,
          keys.leases,
          keys.owners,
          keys.active,
          keys.delayed,
          keys.dead,
          keys.done,
          keys.stats,
          keys.jobPrefix,
        ],
        args,
      );
    } catch (err) {
      // Unknown whether it ran: settling again is safe (a repeat finds the job gone and reports it lost).
      this.#settled.unshift(...settle);
      this.#claim ??= claim;
      this.#exchanging = false;
      this.#fault(err);
      return;
    }
    this.#exchanging = false;
    this.#faults = 0;
    this.#afterSettle(settle, new Set(reply[0]));
    this.#startJobs(reply[1], sentAt);
    const fetched = reply[2];
    if (want > 0 && fetched < want) this.#block();
    const more = want > 0 && fetched === want && this.#freeSlots() > 0;
    if (this.#settled.length > 0 || this.#claim !== undefined || more) this.#schedulePump();
    this.#checkIdle();
  }

  #freeSlots(): number {
    return this.#o.concurrency - this.#runs.size - (this.#blocking ? 1 : 0) - (this.#claim ? 1 : 0);
  }

  #afterSettle(settle: Array<Settlement<T>>, lost: Set<string>): void {
    for (const s of settle) {
      const { job } = s.run;
      if (this.#runs.get(job.id) === s.run) this.#runs.delete(job.id);
      if (lost.has(job.id)) {
        this.#emitError(
          new OwnershipLostError(
            this.#q.keys.jobPrefix + job.id,
            `Job ${job.id} finished (${s.outcome}) after its lease had expired and another worker took it; this result was dropped and the job runs again. Raise leaseMs if handlers block the event loop.`,
          ),
        );
        continue;
      }
      if (s.outcome === 'done') this.#emit('completed', job, s.value);
      else if (s.outcome === 'retry') {
        this.#emit('failed', job, s.value, s.delayMs);
        if (s.delayMs > 0) this.#housekeeping.dueIn(s.delayMs);
      } else {
        this.#emit('failed', job, s.value, undefined);
        this.#emit('dead', job.id, 'failed', s.text);
      }
    }
  }

  /** Starts handlers for the leased jobs (flat id, d, n, s). */
  #startJobs(flat: Array<string | null>, sentAt: number): void {
    const giveBack: string[] = [];
    for (let i = 0; i + 3 < flat.length; i += 4) {
      const id = String(flat[i]);
      if (this.#state !== 'running') giveBack.push(id, '1');
      else this.#run(id, decodeJobData(String(flat[i + 1])), Number(flat[i + 2] ?? 0), sentAt);
    }
    if (giveBack.length > 0) void this.#release(giveBack);
  }

  #run(id: string, data: JobData, failures: number, sentAt: number): void {
    let payload: T;
    let decodeError: unknown;
    try {
      payload = this.#q.options.serializer.deserialize(data.payload) as T;
    } catch (err) {
      payload = undefined as T;
      decodeError = err ?? new Error('the payload could not be deserialized');
    }
    const job = new RunningJob<T>(id, payload, failures + 1, data.attempts);
    const run: Run<T> = {
      job,
      backoff: data.backoff,
      leaseUntil: sentAt + this.#o.leaseMs,
      finished: false,
      lost: false,
      released: false,
    };
    const previous = this.#runs.get(id);
    if (previous !== undefined) {
      // Our own lease expired, the job was rescued and came back to us: the old run's outcome
      // must not settle the new lease (same token), so it is dropped.
      this.#lose(previous);
      this.#settled = this.#settled.filter((s) => s.run !== previous);
    }
    this.#runs.set(id, run);
    if (decodeError !== undefined) {
      // A payload this serializer cannot read fails the same way every time: no retry.
      this.#finish(run, false, decodeError, true);
      return;
    }
    Promise.resolve()
      .then(() => this.#handler(job))
      .then(
        (result) => this.#finish(run, true, result, false),
        (error: unknown) => this.#finish(run, false, error, false),
      );
  }

  #finish(run: Run<T>, ok: boolean, value: unknown, final: boolean): void {
    run.finished = true;
    if (run.released || this.#runs.get(run.job.id) !== run) return;
    if (run.lost) {
      this.#runs.delete(run.job.id);
      this.#schedulePump();
      return;
    }
    const { options } = this.#q;
    if (ok) {
      const text = options.keepCompleted.count === 0 ? '' : serializeResult(options.serializer, value);
      this.#settled.push({ run, outcome: 'done', text, delayMs: 0, value });
    } else {
      const failures = run.job.attempt;
      const retry = !final && failures < run.job.maxAttempts;
      const delayMs = retry ? this.#retryDelay(run, failures, value) : 0;
      this.#settled.push({
        run,
        outcome: retry ? 'retry' : 'dead',
        text: describeError(value),
        delayMs,
        value,
      });
    }
    this.#schedulePump();
  }

  #retryDelay(run: Run<T>, failures: number, error: unknown): number {
    let custom: number | undefined;
    try {
      custom = this.#o.backoff?.(failures, error, run.job);
    } catch (err) {
      this.#emitError(toError(err));
    }
    if (typeof custom === 'number' && Number.isFinite(custom) && custom >= 0) return Math.ceil(custom);
    return backoffDelay(run.backoff, failures);
  }

  // ---- blocking fetch when the queue is empty ---------------------------------------------------

  #block(): void {
    if (this.#blocking || this.#state !== 'running' || this.#freeSlots() <= 0) return;
    this.#blocking = true;
    void this.#blockOnce();
  }

  async #blockOnce(): Promise<void> {
    const { conn, keys } = this.#q;
    const blockMs = this.#o.pollIntervalMs;
    let id: string | null = null;
    try {
      if (this.#blocker === undefined) {
        this.#blocker = await conn.dedicated(keys.waiting);
        this.#blockerId = await conn
          .bounded(this.#blocker.client.sendCommand(['CLIENT', 'ID']))
          .then(String, () => undefined);
      }
      if (this.#state !== 'running') {
        this.#blocking = false;
        this.#checkIdle();
        return;
      }
      const blmove = this.#blocker.client.sendCommand([
        'BLMOVE',
        keys.waiting,
        keys.active,
        'RIGHT',
        'LEFT',
        String(blockMs / 1000),
      ]) as Promise<string | null>;
      id = await conn.bounded(blmove, blockMs + (conn.commandTimeoutMs || 5000), 'BLMOVE');
    } catch (err) {
      // Its state is unknown (a reply may still come): never reuse it. An id moved meanwhile is an
      // orphan the stalled-job check puts back after leaseMs.
      this.#blocker?.destroy();
      this.#blocker = undefined;
      this.#blockerId = undefined;
      this.#blocking = false;
      if (this.#state === 'running') this.#fault(err);
      this.#checkIdle();
      return;
    }
    if (id !== null && this.#state !== 'running') await this.#release([id, '0']);
    this.#blocking = false;
    if (id !== null && this.#state === 'running') {
      this.#claim = id;
      this.#schedulePump();
    } else if (id === null) this.#block();
    this.#checkIdle();
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

  #lose(run: Run<T>): void {
    if (run.lost) return;
    run.lost = true;
    const error = lostError(run);
    if (!run.finished) run.job.abort(error);
    this.#emitError(error);
  }

  // ---- stopping -------------------------------------------------------------------------------

  async #release(flat: string[], timeoutMs?: number): Promise<void> {
    if (flat.length === 0) return;
    const { conn, keys } = this.#q;
    try {
      await conn.runScript(
        releaseJobs,
        [keys.waiting, keys.leases, keys.owners, keys.active],
        [this.#token, ...flat],
        timeoutMs === undefined ? {} : { timeoutMs },
      );
    } catch (err) {
      // Their leases expire and the stalled-job check puts them back (counting a stall).
      this.#emitError(toError(err));
    }
  }

  async #shutdown(graceful: boolean, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const left = () => Math.max(0, deadline - performance.now());
    this.#housekeeping.stopChecking();
    this.#wake();
    await this.#waitIdle(graceful ? timeoutMs - Math.min(1_000, timeoutMs / 4) : 0);
    const unfinished = [...this.#runs.values()].filter((r) => !r.finished);
    const reason = new ClosedError(
      'The worker stopped before this job finished; the job was returned to waiting and will run again.',
    );
    for (const run of unfinished) {
      run.released = true;
      run.job.abort(reason);
      this.#runs.delete(run.job.id);
    }
    await this.#release(
      unfinished.flatMap((r) => (r.lost ? [] : [r.job.id, '1'])),
      Math.max(1, left()),
    );
    // Finished jobs still to record, and a BLMOVE still blocked: until the deadline.
    await this.#waitIdle(left());
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#housekeeping.stopRenewing();
    // A BLMOVE still pending past its bound leaves the connection in an unknown state.
    if (this.#blocking) this.#blocker?.destroy();
    else this.#blocker?.release();
    this.#blocker = undefined;
    this.#blockerId = undefined;
    this.#q.workers.delete(this.#link);
    this.#state = 'stopped';
    this.#stopping = undefined;
  }

  /** Ends a blocked BLMOVE now (as if it timed out) rather than after up to pollIntervalMs. */
  #wake(): void {
    if (!this.#blocking || this.#blockerId === undefined) return;
    const { conn, keys } = this.#q;
    const id = this.#blockerId;
    // A connection to the node that owns the waiting key, where the blocked connection is: a Cluster
    // client would route CLIENT by its own policy, not by our key.
    conn
      .isolated(keys.waiting, (client) => conn.bounded(client.sendCommand(['CLIENT', 'UNBLOCK', id])))
      .catch(() => {});
  }

  #isIdle(): boolean {
    return (
      this.#runs.size === 0 &&
      this.#settled.length === 0 &&
      this.#claim === undefined &&
      !this.#exchanging &&
      !this.#blocking
    );
  }

  #waitIdle(timeoutMs: number): Promise<void> {
    if (this.#isIdle() || timeoutMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const waiter = () => done();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#idleWaiters.push(waiter);
      this.#schedulePump();
    });
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return;
    for (const waiter of this.#idleWaiters.splice(0)) waiter();
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
