import type { QueueCounts } from '@redis-patterns/queue';

/** One reading of a queue's counts. */
interface Sample {
  /** When it was read (epoch ms, this machine's clock). */
  at: number;
  counts: QueueCounts;
}

/** A queue's history as the charts draw it: one array per series, all the same length. */
export interface QueueHistory {
  /** Times of the readings, epoch seconds. */
  at: number[];
  /** Jobs not finished: waiting + delayed + active. */
  depth: number[];
  /** Jobs completed per second since the previous reading (null for the first). */
  completedPerSecond: Array<number | null>;
  /** Failed runs per second since the previous reading (null for the first). */
  failedPerSecond: Array<number | null>;
}

/** Readings kept per queue, oldest first, at most `capacity` of them. */
class Ring {
  readonly #items: Sample[] = [];
  constructor(readonly capacity: number) {}

  push(sample: Sample): void {
    this.#items.push(sample);
    if (this.#items.length > this.capacity) this.#items.shift();
  }

  history(): QueueHistory {
    const h: QueueHistory = { at: [], depth: [], completedPerSecond: [], failedPerSecond: [] };
    let previous: Sample | undefined;
    for (const s of this.#items) {
      const c = s.counts;
      h.at.push(s.at / 1000);
      h.depth.push(c.waiting + c.delayed + c.active);
      const seconds = previous === undefined ? 0 : (s.at - previous.at) / 1000;
      const rate = (now: number, then: number) => (seconds > 0 ? Math.max(0, now - then) / seconds : null);
      h.completedPerSecond.push(previous === undefined ? null : rate(c.completed, previous.counts.completed));
      h.failedPerSecond.push(previous === undefined ? null : rate(c.failed, previous.counts.failed));
      previous = s;
    }
    return h;
  }
}

/** What the sampler reads with: queue discovery, and one queue's counts. */
export interface SamplerSource {
  discover(): Promise<string[]>;
  counts(name: string): Promise<QueueCounts>;
}

/** How often (in samples) the list of queues is discovered again: a SCAN is dearer than counts. */
const DISCOVER_EVERY = 10;
/** Unknown names remembered at once for {@link QueueSampler.history}'s once-per-period rule. */
const MAX_ASKED = 1000;

/**
 * Reads every queue's counts each `everyMs` into bounded rings, one read at a time (a slow Redis
 * delays the next tick rather than piling reads up), until `stop()`.
 */
export class QueueSampler {
  readonly #rings = new Map<string, Ring>();
  readonly #capacity: number;
  #names: string[] = [];
  #ticks = 0;
  #discoverNext = true;
  /** The tick at which an unknown name last asked for a discovery, per name (bounded). */
  readonly #askedAt = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** The last read's error, shown by the page; cleared by the next good read. */
  lastError: string | undefined;

  constructor(
    readonly source: SamplerSource,
    readonly everyMs: number,
    historyMs: number,
    readonly maxQueues: number,
  ) {
    this.#capacity = Math.max(2, Math.ceil(historyMs / everyMs) + 1);
  }

  /** Starts sampling now. */
  start(): void {
    this.#schedule(0);
  }

  /**
   * The history of `name` (empty before its first reading); with `discover`, a queue not sampled
   * yet is looked for at the next tick rather than at the next periodic discovery, once per
   * discovery period per name (a page polling a queue that does not exist must not SCAN each poll).
   */
  history(name: string, { discover = false } = {}): QueueHistory {
    if (discover && !this.#rings.has(name)) {
      const asked = this.#askedAt.get(name);
      if (asked === undefined || this.#ticks - asked >= DISCOVER_EVERY) {
        if (this.#askedAt.size >= MAX_ASKED) this.#askedAt.clear();
        this.#askedAt.set(name, this.#ticks);
        this.rediscover();
      }
    }
    return (
      this.#rings.get(name)?.history() ?? { at: [], depth: [], completedPerSecond: [], failedPerSecond: [] }
    );
  }

  /** Stops sampling and waits for a read in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#tick().finally(() => this.#schedule(this.everyMs));
    }, ms);
    // Sampling alone must not keep a process alive: the server, or the host app, does.
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    const tick = this.#ticks++;
    try {
      if (this.#discoverNext || tick % DISCOVER_EVERY === 0) {
        this.#discoverNext = false;
        this.#names = (await this.source.discover()).slice(0, this.maxQueues);
        for (const name of this.#rings.keys()) if (!this.#names.includes(name)) this.#rings.delete(name);
      }
      for (const name of this.#names) {
        if (this.#stopped) return;
        const counts = await this.source.counts(name);
        const ring = this.#rings.get(name) ?? new Ring(this.#capacity);
        this.#rings.set(name, ring);
        ring.push({ at: Date.now(), counts });
      }
      this.lastError = undefined;
    } catch (err) {
      this.lastError = (err as Error).message;
    }
  }

  /** Discovers the queues at the next tick (a page that lists a queue the sampler does not know yet). */
  rediscover(): void {
    this.#discoverNext = true;
  }
}
