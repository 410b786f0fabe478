import { ConnectionError, type RedisConnection, TimeoutError } from '@redis-patterns/connection';
import { Lease, type LeaseGrant } from './lease.js';

/** Redis did not answer: the command may or may not have run. */
export function unanswered(err: unknown): boolean {
  return err instanceof TimeoutError || err instanceof ConnectionError;
}

/** Retry delays of a give-back while Redis does not answer: doubling from the first, capped. */
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 1_000;

/**
 * Runs `takeBack` until it resolves, while it fails only because Redis did not answer, and until
 * `performance.now()` reaches `until` (the grant would have expired by then anyway).
 */
async function retryGiveBack(takeBack: () => Promise<unknown>, until: number): Promise<void> {
  for (let delay = FIRST_RETRY_MS; performance.now() < until; delay = Math.min(delay * 2, MAX_RETRY_MS)) {
    try {
      await takeBack();
      return;
    } catch (err) {
      if (!unanswered(err)) return;
    }
    await new Promise((resolve) => setTimeout(resolve, delay).unref());
  }
}

/** An attempt's reply: a grant and its token, or how long until what blocks it may be gone. */
export type LeaseReply = { granted: true; fencingToken: number } | { granted: false; heldForMs: number };

/** How one attempt is made and how its grant is held, for a semaphore or a read/write lock. */
export interface LeaseAttempt<R extends LeaseReply> {
  conn: RedisConnection;
  kind: LeaseGrant['kind'];
  name: string;
  /** This attempt's owner id, unique per instance and attempt. */
  owner: string;
  ttlMs: number;
  autoExtend: boolean;
  /** Makes the attempt (one script call). */
  request(): Promise<R>;
  /** Removes the owner's grant, whatever it is, after a reply that never came or an unconfirmed release. */
  takeBack(): Promise<unknown>;
  /** Where the grant lives, and how to extend and release it. */
  holding(reply: R & { granted: true }): {
    key: string;
    extend(ttlMs: number, timeoutMs: number | undefined): Promise<boolean>;
    release(): Promise<boolean>;
  };
}

/**
 * One attempt: a {@link Lease} for a grant (with the reply, for its extra fields), or the wait hint.
 * A reply that never came (a timeout, a dropped connection) may have granted something nobody
 * holds: it is taken back, by owner id, as soon as Redis answers, or until it would have expired.
 */
export async function attemptLease<R extends LeaseReply>(
  attempt: LeaseAttempt<R>,
): Promise<{ lease: Lease; reply: R & { granted: true } } | { lease?: undefined; heldForMs: number }> {
  const sentAtMs = Date.now();
  const sentAtMono = performance.now();
  const giveBack = (untilMono = sentAtMono + attempt.ttlMs) =>
    void retryGiveBack(() => attempt.takeBack(), untilMono);
  let reply: R;
  try {
    reply = await attempt.request();
  } catch (err) {
    if (unanswered(err)) giveBack(); // retried until the attempt's grant would have expired
    throw err;
  }
  if (!reply.granted) return { heldForMs: reply.heldForMs };
  const granted = reply as R & { granted: true };
  const { key, extend, release } = attempt.holding(granted);
  const lease = new Lease({
    conn: attempt.conn,
    kind: attempt.kind,
    name: attempt.name,
    key,
    fencingToken: granted.fencingToken,
    sentAtMs,
    sentAtMono,
    ttlMs: attempt.ttlMs,
    autoExtend: attempt.autoExtend,
    ops: { extend, release, giveBack },
  });
  return { lease, reply: granted };
}
