import { randomUUID } from 'node:crypto';
import {
  ClosedError,
  ConnectionError,
  InvalidArgumentError,
  type Keyspace,
  type RedisConnection,
  TimeoutError,
} from '@redis-patterns/connection';
import { checkOptions } from '@redis-patterns/connection/internal';
import { attemptGroup, type MultiAttempt, unmark } from './commands/index.js';
import { GiveBacks } from './give-backs.js';
import { MultiHold, type MultiLockHandle, runWithHold } from './multi-handle.js';
import { type LineRun, type NameGroup, planGroups, WaitingLine } from './multi-line.js';
import { type AcquireOptions, type ResolvedOptions, resolveAcquire } from './options.js';
import type { ReleaseWakeups } from './wakeups.js';

/** One `acquireAll()` in flight: how it waits, and whether its caller has left. */
interface Run extends LineRun {
  names: readonly string[];
  groups: readonly NameGroup[];
  ttlMs: number;
  timeoutMs: number;
  deadline: number;
  cancelled: boolean;
  /** Wakes the run's sleep (a release message, or the caller left). */
  wake: () => void;
}

function notAllAcquired(names: readonly string[], timeoutMs: number): TimeoutError {
  const list = names.map((n) => `"${n}"`).join(', ');
  return new TimeoutError(
    `Locks ${list} were not all acquired within ${timeoutMs} ms: other owners held some of them, and none is held now. Raise acquireTimeoutMs, or see which is held with isLocked().`,
    timeoutMs,
  );
}

/**
 * `acquireAll()`: several names held as one, all or none. Names are grouped by hash slot (one group
 * on a single server; on Cluster, the names of each slot) and every group is taken atomically by
 * one script, only if all its names are free. Groups are taken one after the other in ascending
 * slot order, keeping the earlier ones while waiting for the next: every caller waits only for a
 * group of a higher slot than any it holds, so no cycle of waiters can form (no deadlock), whatever
 * order callers list their names in. A caller that fails, times out or aborts releases what it
 * holds. Callers of one instance that wait stand in a line (multi-line.ts): only the oldest of
 * those wanting a name tries for it. The instance has an id of its own, so that the mutex's holders
 * in this process yield to its marks as they do to another process's.
 */
export class MultiLocks {
  readonly #conn: RedisConnection;
  readonly #settings: ResolvedOptions;
  readonly #keyspace: Keyspace;
  readonly #wakeups: ReleaseWakeups;
  readonly #instance = randomUUID();
  readonly #giveBacks: GiveBacks;
  readonly #closers = new Set<() => void>();
  readonly #line = new WaitingLine<Run>();
  #sequence = 0;
  #closed = false;

  constructor(conn: RedisConnection, settings: ResolvedOptions, keyspace: Keyspace, wakeups: ReleaseWakeups) {
    this.#conn = conn;
    this.#settings = settings;
    this.#keyspace = keyspace;
    this.#wakeups = wakeups;
    this.#giveBacks = new GiveBacks(conn, this.#instance);
  }

  /**
   * Waits until every name is ours; see `DistributedLock.acquireAll`. With `once` (`tryAcquireAll`)
   * it tries once and resolves undefined if refused; `acquireTimeoutMs: 0` also tries once, and
   * rejects with `TimeoutError` if refused.
   */
  async acquire(
    names: readonly string[],
    given: AcquireOptions | undefined,
    once: boolean,
  ): Promise<MultiHold | undefined> {
    const opts = resolveAcquire(this.#settings, given);
    const groups = planGroups(this.#conn, this.#keyspace, names);
    this.#open();
    const { signal } = opts;
    if (signal?.aborted) throw signal.reason;
    const single = once || opts.timeoutMs === 0;
    const timeoutMs = single ? 0 : opts.timeoutMs;
    const run: Run = {
      names: groups.flatMap((g) => g.names),
      groups,
      ttlMs: opts.ttlMs,
      timeoutMs,
      deadline: performance.now() + timeoutMs,
      cancelled: false,
      wanted: undefined,
      wake: () => {},
    };
    const taking = this.#take(run, opts.autoExtend, single);
    return new Promise<MultiHold | undefined>((resolve, reject) => {
      let settled = false;
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#closers.delete(onClose);
      };
      const fail = (err: unknown) => {
        if (settled) return;
        finish();
        run.cancelled = true;
        run.wake();
        reject(err);
      };
      const onAbort = () => fail(signal?.reason);
      const onClose = () =>
        fail(
          new ClosedError(
            'The lock was closed while acquireAll() waited; create a new one with createLock().',
          ),
        );
      const timer = single
        ? undefined
        : setTimeout(() => fail(notAllAcquired(run.names, timeoutMs)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#closers.add(onClose);
      taking.then((hold) => {
        // The caller left while the last group was granted: a hold nobody uses must not linger.
        if (settled) hold?.release().catch(() => {});
        else if (hold === undefined && !once) fail(notAllAcquired(run.names, 0));
        else {
          finish();
          resolve(hold);
        }
      }, fail);
    });
  }

  /** Runs `fn` while holding every name; see `DistributedLock.withLocks`. */
  withLocks<T>(
    names: readonly string[],
    fn: (signal: AbortSignal, handle: MultiLockHandle) => Promise<T> | T,
    given: AcquireOptions | undefined,
  ): Promise<T> {
    const options = checkOptions('options', given, '{ signal?, acquireTimeoutMs?, ttlMs?, autoExtend? }');
    if (typeof fn !== 'function') {
      throw new InvalidArgumentError('fn', 'expected a function to run under the locks.');
    }
    const acquiring = this.acquire(names, { ...options, autoExtend: options.autoExtend ?? true }, false);
    return runWithHold(acquiring as Promise<MultiHold>, fn);
  }

  /** Rejects every waiting `acquireAll()` with `ClosedError`. Held handles keep working. */
  close(): void {
    this.#closed = true;
    for (const fn of [...this.#closers]) fn();
  }

  #open(): void {
    if (this.#closed) throw new ClosedError('This lock was closed; create a new one with createLock().');
  }

  /** Takes the groups in order until all are ours; releases what it holds if it fails or is cancelled. */
  async #take(run: Run, autoExtend: boolean, once: boolean): Promise<MultiHold | undefined> {
    let hold: MultiHold | undefined;
    const marked = new Set<number>();
    const listening = new Set<number>();
    let generation = 0;
    const onRelease = () => {
      generation++;
      run.wake();
    };
    try {
      for (let next = 0; next < run.groups.length; ) {
        if (run.cancelled || this.#closed) return undefined;
        if (hold?.lost) {
          // A group held while waiting was lost (Redis unreachable past its TTL, forceRelease):
          // give the rest back and start again from the first group.
          await hold.release().catch(() => {});
          hold = undefined;
          this.#line.moved(run, false, run.wanted); // those behind it for its current group look again
          next = 0;
        }
        const group = run.groups[next] as NameGroup;
        run.wanted = new Set(group.names);
        if (!once && this.#line.behind(run, group.names)) {
          // An older caller of this process waits for one of these names: after it, not with it.
          this.#line.join(run);
          await this.#sleep(run, -1);
          continue;
        }
        if (!once) this.#line.join(run);
        const seen = generation;
        const result = await this.#attempt(run, group, marked.has(next), once);
        if (result.granted) {
          hold ??= new MultiHold({
            conn: this.#conn,
            instance: this.#instance,
            giveBacks: this.#giveBacks,
            ttlMs: run.ttlMs,
          });
          hold.add({ ...group, owners: result.owners, fencingTokens: result.fencingTokens, ...result.until });
          marked.delete(next);
          next++;
          const took = run.wanted;
          run.wanted = undefined;
          this.#line.moved(run, next === run.groups.length, took);
          continue;
        }
        if (once) return undefined;
        marked.add(next);
        if (!listening.has(next)) {
          // Subscribe, then try again at once: a release before the subscription was not seen.
          listening.add(next);
          await Promise.all(group.keys.map((k) => this.#wakeups.listen(k.channel, onRelease)));
          continue;
        }
        if (generation !== seen) continue;
        await this.#sleep(run, result.heldForMs);
      }
      hold?.complete(autoExtend);
      const done = hold;
      hold = undefined;
      return done;
    } finally {
      const left = run.wanted;
      run.wanted = undefined;
      this.#line.moved(run, true, left);
      for (const at of listening) {
        for (const k of (run.groups[at] as NameGroup).keys) this.#wakeups.unlisten(k.channel, onRelease);
      }
      // Failed, timed out or cancelled: nothing stays held, and nobody need yield to this caller.
      hold?.release().catch(() => {});
      for (const at of marked) {
        for (const k of (run.groups[at] as NameGroup).keys)
          unmark(this.#conn, k, this.#instance).catch(() => {});
      }
    }
  }

  /** One attempt on one group; a grant that may have happened unseen is given back. */
  async #attempt(run: Run, group: NameGroup, unmarkOnGrant: boolean, once: boolean) {
    const owners = group.keys.map(() => `${this.#instance}:${++this.#sequence}`);
    const sentAtMs = Date.now();
    const sentAtMono = performance.now();
    const left = run.deadline - sentAtMono;
    // Bounded by the command timeout too: an outage is reported as such, not as a long wait.
    const timeoutMs = once ? undefined : Math.max(1, Math.min(left, this.#conn.commandTimeoutMs || left));
    const { markMs } = this.#settings;
    const request = { ttlMs: run.ttlMs, instance: this.#instance, markMs, unmark: unmarkOnGrant, timeoutMs };
    let result: MultiAttempt;
    try {
      result = await attemptGroup(this.#conn, { keys: group.keys, owners }, request);
    } catch (err) {
      // No reply: the script may have granted the names to nobody. Take them back once Redis answers.
      if (err instanceof TimeoutError || err instanceof ConnectionError) {
        group.keys.forEach((k, i) => {
          this.#giveBacks.add(k, owners[i] as string, sentAtMono + run.ttlMs);
        });
      }
      throw err;
    }
    if (!result.granted) return { granted: false as const, heldForMs: result.heldForMs };
    const until = { expiresAt: sentAtMs + run.ttlMs, deadline: sentAtMono + run.ttlMs };
    return { granted: true as const, owners, fencingTokens: result.fencingTokens, until };
  }

  /** Until a release of the group's names, the holder's TTL (if sooner) or one poll, plus jitter. */
  #sleep(run: Run, heldForMs: number): Promise<void> {
    const { delayMs, jitterMs } = this.#settings;
    const base = heldForMs >= 0 ? Math.min(heldForMs, delayMs) : delayMs;
    const ms = Math.min(base + Math.random() * jitterMs, Math.max(0, run.deadline - performance.now()));
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      run.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
