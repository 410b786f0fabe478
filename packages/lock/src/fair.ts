import { ConnectionError, type RedisConnection, TimeoutError } from '@redis-patterns/connection';
import { attemptFair, type LockKeys, leaveFair } from './commands/index.js';
import { closedWhileWaiting, type Grants } from './grants.js';
import type { Holder } from './handle.js';
import type { ResolvedOptions } from './options.js';
import { notAcquired, type WaitOptions } from './waiting.js';

/**
 * `acquire()` of a `fair` lock: the caller joins the name's queue in Redis on its first attempt and
 * gets the lock when it is the oldest caller still waiting, across every process. Each caller waits
 * on its own (no local hand-overs, which would jump the queue). A release that names it as next, or
 * names nobody, wakes it to try again; it polls at `retry.delayMs` otherwise, which renews its
 * place. A caller that times out, aborts or fails leaves the queue (naming the next caller if it
 * was the head and the lock is free). With `acquireTimeoutMs` 0 it tries once without joining the
 * queue and resolves undefined if the lock is not free for it.
 */
export async function acquireFair(
  grants: Grants,
  conn: RedisConnection,
  settings: ResolvedOptions,
  name: string,
  keys: LockKeys,
  opts: WaitOptions,
): Promise<Holder | undefined> {
  const owner = grants.nextOwner();
  const { signal } = opts;
  let wake: (() => void) | undefined;
  let generation = 0;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  // A fair release names the owner whose turn it is: only that caller tries again; the others keep
  // sleeping (they poll to renew their place). One that names nobody (the queue was empty, or lost
  // in a failover) and other releases (forceRelease, a give-back) wake every waiter.
  const onRelease = (_by: string, next?: string) => {
    if (next && next !== owner) return;
    generation++;
    poke();
  };
  signal?.addEventListener('abort', poke);
  const stopWatching = grants.onClose(poke);
  let joined = false;
  try {
    await grants.wakeups.listen(keys.channel, onRelease);
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      if (grants.closed) throw closedWhileWaiting();
      const left = opts.deadline - performance.now();
      const once = opts.timeoutMs === 0;
      if (left <= 0 && !once) throw notAcquired(name, opts.timeoutMs);
      const seen = generation;
      const sentAtMs = Date.now();
      const sentAtMono = performance.now();
      const bound = once ? undefined : Math.min(left, conn.commandTimeoutMs || left);
      let attempt: Awaited<ReturnType<typeof attemptFair>>;
      try {
        joined = joined || !once;
        attempt = await attemptFair(conn, keys, owner, opts.ttlMs, settings.markMs, !once, bound);
      } catch (err) {
        if (err instanceof TimeoutError || err instanceof ConnectionError)
          grants.giveBacks.add(keys, owner, sentAtMono + opts.ttlMs);
        throw err;
      }
      if (attempt.granted) {
        joined = false;
        const fields = {
          owner,
          fencingToken: attempt.fencingToken,
          sentAtMs,
          sentAtMono,
          grantedTtlMs: opts.ttlMs,
        };
        const holder = grants.holder(name, keys, opts, { ...fields, session: undefined, streak: 0 }, true);
        if (signal?.aborted) {
          holder.release().catch(() => {});
          throw signal.reason;
        }
        return holder;
      }
      if (once) return undefined;
      if (generation !== seen) continue;
      const pollMs = Math.min(
        settings.delayMs,
        attempt.heldForMs >= 0 ? attempt.heldForMs : settings.delayMs,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(
          () => {
            wake = undefined;
            resolve();
          },
          Math.min(
            pollMs + Math.random() * settings.jitterMs,
            Math.max(0, opts.deadline - performance.now()),
          ),
        );
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } catch (err) {
    if (joined) leaveFair(conn, keys, owner, grants.actor.instance).catch(() => {});
    throw err;
  } finally {
    signal?.removeEventListener('abort', poke);
    stopWatching();
    grants.wakeups.unlisten(keys.channel, onRelease);
  }
}
