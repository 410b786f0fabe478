import { promoteDelayed, renewLeases, rescueStalled } from './commands/index.js';
import type { QueueInternals } from './queue.js';
import { lostError, type Run, toError } from './running-job.js';
import { ScheduleRunner } from './schedule-runner.js';

/** What the housekeeping timers need from their worker. */
export interface HousekeepingHost {
  readonly token: string;
  readonly leaseMs: number;
  readonly maxStalls: number;
  readonly pollIntervalMs: number;
  /** The runs whose leases to renew. */
  runs(): Array<Run<unknown>>;
  /** The server says another worker owns this run's job now. */
  lose(run: Run<unknown>): void;
  /** A renewal says this job was cancelled (its message may not have arrived). */
  cancel(id: string): void;
  stalled(id: string, stalls: number): void;
  dead(id: string, error: string): void;
  error(error: Error): void;
}

/** Ids per script call: keeps Lua's unpack() and the replies small. */
const BATCH = 1000;

/**
 * The timers of one worker, so that no extra process is needed: lease renewal for its running jobs
 * (one script call per period for all of them), the stalled-job check any worker runs, the
 * promotion of due delayed jobs, and the firing of due schedules (schedule-runner.ts).
 */
export class Housekeeping {
  readonly #q: QueueInternals;
  readonly #host: HousekeepingHost;
  #renewTimer: NodeJS.Timeout | undefined;
  #rescueTimer: NodeJS.Timeout | undefined;
  #promoteTimer: NodeJS.Timeout | undefined;
  #promoteAt = Number.POSITIVE_INFINITY;
  #renewing = false;
  #checking = false;
  readonly #schedules: ScheduleRunner;

  constructor(q: QueueInternals, host: HousekeepingHost) {
    this.#q = q;
    this.#host = host;
    this.#schedules = new ScheduleRunner(q, { pollIntervalMs: host.pollIntervalMs, error: host.error });
  }

  start(): void {
    const { leaseMs } = this.#host;
    this.#checking = true;
    this.#renewTimer = setInterval(() => void this.#renew(), Math.max(1, leaseMs / 3));
    this.#renewTimer.unref();
    // A first check soon after start rescues the jobs of a crashed predecessor without a full period.
    this.#scheduleRescue(Math.min(leaseMs / 2, 100 + Math.random() * 400));
    this.dueIn(0);
    this.#schedules.start();
  }

  /** Stops rescuing and promoting; leases are still renewed until {@link stopRenewing}. */
  stopChecking(): void {
    this.#checking = false;
    void this.#schedules.stop();
    clearTimeout(this.#rescueTimer);
    clearTimeout(this.#promoteTimer);
    this.#promoteTimer = undefined;
    this.#promoteAt = Number.POSITIVE_INFINITY;
  }

  stopRenewing(): void {
    clearInterval(this.#renewTimer);
    this.#renewTimer = undefined;
  }

  /** A delayed job is due in `ms`: promote then, unless a promotion is already planned sooner. */
  dueIn(ms: number): void {
    if (!this.#checking) return;
    const at = performance.now() + ms;
    if (this.#promoteTimer !== undefined && this.#promoteAt <= at) return;
    clearTimeout(this.#promoteTimer);
    this.#promoteAt = at;
    this.#promoteTimer = setTimeout(() => void this.#promote(), Math.max(0, ms));
    this.#promoteTimer.unref();
  }

  async #renew(): Promise<void> {
    if (this.#renewing) return;
    const runs = this.#host.runs();
    if (runs.length === 0) return;
    this.#renewing = true;
    const { conn, keys } = this.#q;
    const { token, leaseMs } = this.#host;
    try {
      for (let start = 0; start < runs.length; start += BATCH) {
        const chunk = runs.slice(start, start + BATCH);
        const sentAt = performance.now();
        try {
          const ids = chunk.map((r) => r.job.id);
          const renewed = await renewLeases(conn, keys, token, leaseMs, ids);
          const lost = new Set(renewed.lost);
          for (const id of renewed.cancelled) this.#host.cancel(id);
          for (const run of chunk) {
            // A run that finished meanwhile was acknowledged (or is being): the acknowledgement,
            // not this renewal, says whether its lease was lost.
            if (!lost.has(run.job.id)) run.leaseUntil = sentAt + leaseMs;
            else if (!run.finished) this.#host.lose(run);
          }
        } catch (err) {
          this.#host.error(toError(err));
          // Past its last confirmed lease another worker may run the job: tell the handler.
          const now = performance.now();
          for (const run of chunk) if (now > run.leaseUntil && !run.finished) run.job.abort(lostError(run));
        }
      }
    } finally {
      this.#renewing = false;
    }
  }

  #scheduleRescue(ms: number): void {
    clearTimeout(this.#rescueTimer);
    if (!this.#checking) return;
    this.#rescueTimer = setTimeout(() => void this.#rescue(), ms);
    this.#rescueTimer.unref();
  }

  async #rescue(): Promise<void> {
    const { conn, keys, options } = this.#q;
    const { leaseMs, maxStalls } = this.#host;
    let again = false;
    try {
      const { requeued, dead } = await rescueStalled(conn, keys, {
        maxStalls,
        // The grace before a parked (BLMOVE'd, unleased) id counts as orphaned: one lease.
        graceMs: leaseMs,
        keepDead: options.keepDead,
        limit: BATCH,
      });
      for (const { id, stalls } of requeued) this.#host.stalled(id, stalls);
      for (const id of dead) this.#host.dead(id, `stalled more than maxStalls (${maxStalls}) times`);
      again = requeued.length + dead.length >= BATCH;
    } catch (err) {
      this.#host.error(toError(err));
    }
    // Jittered so that many workers started together do not check in lockstep.
    this.#scheduleRescue(again ? 0 : (leaseMs / 2) * (0.8 + Math.random() * 0.4));
  }

  async #promote(): Promise<void> {
    this.#promoteTimer = undefined;
    this.#promoteAt = Number.POSITIVE_INFINITY;
    if (!this.#checking) return;
    let nextMs = this.#host.pollIntervalMs;
    try {
      const { conn, keys } = this.#q;
      const { moved, dueInMs } = await promoteDelayed(conn, keys, BATCH);
      if (moved >= BATCH) nextMs = 0;
      else if (dueInMs >= 0) nextMs = Math.min(nextMs, Math.max(1, dueInMs));
    } catch (err) {
      this.#host.error(toError(err));
    }
    this.dueIn(nextMs);
  }
}
