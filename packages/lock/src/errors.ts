import { ConnectionError, OwnershipLostError } from '@redis-patterns/connection';

/**
 * Why a lock is no longer held:
 * - `expired`: its key is gone from Redis (the TTL ran out, `forceRelease`, or Redis lost its data);
 * - `taken`: another owner holds it now (it expired and was acquired again);
 * - `unconfirmed`: no extension reached Redis before the TTL ran out (Redis down, slow or paused),
 *   so exclusivity can no longer be assumed;
 * - `released`: this handle was released already.
 */
export type LockLossReason = 'expired' | 'taken' | 'unconfirmed' | 'released';

const explanations: Record<LockLossReason, string> = {
  expired:
    'expired before it was extended or released; another process may have held it since. Keep autoExtend on or raise ttlMs, and check the fencing token where you write.',
  taken:
    'is held by another owner now: it expired (or was force-released) and was acquired again. Work done after the loss was not exclusive.',
  unconfirmed:
    'could not be extended before its TTL ran out (Redis unreachable, slow or paused): treat it as lost.',
  released: 'was released by this handle already; acquire the lock again.',
};

/**
 * The lock this process held is gone. Thrown by `release()` and `extend()`, and the reason of
 * `handle.signal` when a background extension finds the lock lost. Its `code` is `ERR_OWNERSHIP_LOST`.
 */
export class LockLostError extends OwnershipLostError {
  /** The lock name passed to `acquire`. */
  readonly lockName: string;
  /** The fencing token of the grant that was lost. */
  readonly fencingToken: number;
  /** What happened; see {@link LockLossReason}. */
  readonly reason: LockLossReason;

  constructor(
    lockName: string,
    key: string,
    fencingToken: number,
    reason: LockLossReason,
    options?: { cause?: unknown },
  ) {
    super(key, `Lock "${lockName}" (fencing token ${fencingToken}) ${explanations[reason]}`, options);
    this.name = 'LockLostError';
    this.lockName = lockName;
    this.fencingToken = fencingToken;
    this.reason = reason;
  }
}

/**
 * A grant or an extension reached fewer replicas than the lock's `durability.replicas` within
 * `durability.timeoutMs` (WAIT): a failover could lose it, so it does not count. A grant is given
 * back before this is thrown; an extension is retried by the watchdog until the TTL runs out. Its
 * `code` is `ERR_CONNECTION`.
 */
export class NotReplicatedError extends ConnectionError {
  /** The lock key. */
  readonly key: string;
  /** How many replicas acknowledged the write. */
  readonly replicas: number;
  /** How many were required. */
  readonly required: number;

  constructor(key: string, replicas: number, durability: { replicas: number; timeoutMs: number }) {
    super(
      `The write to "${key}" reached ${replicas} of the ${durability.replicas} replica(s) required within ${durability.timeoutMs} ms, so it does not count. Check the replicas' links (INFO replication), or lower durability.replicas.`,
    );
    this.name = 'NotReplicatedError';
    this.key = key;
    this.replicas = replicas;
    this.required = durability.replicas;
  }
}
