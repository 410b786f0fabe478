/**
 * Acquisition attempts: batched per tick, on a dedicated socket followed by WAIT when grants must
 * reach replicas, or in the strict FIFO order of `fair` locks. The keys are described in index.ts.
 */
import type { RedisClient, RedisConnection } from '@redis-patterns/connection';
import { ScriptBatcher } from '@redis-patterns/connection/internal';
import { NotReplicatedError } from '../errors.js';
import { scripts } from '../lua.generated.js';
import type { LockKeys } from './index.js';

/** A grant, or how long the current holder's TTL still runs (-1 without TTL, -2 if gone meanwhile). */
export type Attempt = { granted: true; fencingToken: number } | { granted: false; heldForMs: number };

/** A grant counts only once this many replicas have it (WAIT), within `timeoutMs`. */
export interface Durability {
  replicas: number;
  timeoutMs: number;
}

/** One acquisition attempt: who asks, and how its process marks itself as waiting. */
export interface AttemptRequest {
  keys: LockKeys;
  owner: string;
  ttlMs: number;
  /** The lock instance (process) asking. */
  instance: string;
  /** How long a failed attempt marks the instance as waiting. */
  markMs: number;
  /** More callers of the instance wait for this name after this one. */
  more: boolean;
  /** The bound of this attempt (the caller's time left), or undefined for the connection's. */
  timeoutMs: number | undefined;
}

/** Most attempts in one script call. */
const MAX_ATTEMPTS = 100;

/** The attempts of each connection, gathered per tick. */
const attemptBatchers = new WeakMap<RedisConnection, ScriptBatcher<AttemptRequest, Attempt>>();

/**
 * One acquisition attempt, one round trip (see scripts.attempt). Attempts made in the same tick share
 * one script call per hash slot, so 50 callers acquiring at once cost one round trip instead of 50.
 * The call is bounded by the shortest time left of its attempts.
 */
export function attemptGrant(conn: RedisConnection, request: AttemptRequest): Promise<Attempt> {
  let batcher = attemptBatchers.get(conn);
  if (batcher === undefined) {
    batcher = new ScriptBatcher(conn, {
      single: scripts.attempt,
      batch: scripts.attempt,
      max: MAX_ATTEMPTS,
      gather: 'tick',
      keyOf: (r) => r.keys.lock,
      argsOf: attemptArgs,
      layout: { first: 0, slots: 2 },
      decode: (reply, at) => toAttempt(reply as unknown[], at),
      timeoutMs: (requests) => {
        let timeoutMs: number | undefined;
        for (const r of requests)
          if (r.timeoutMs !== undefined) timeoutMs = Math.min(timeoutMs ?? r.timeoutMs, r.timeoutMs);
        return timeoutMs;
      },
    });
    attemptBatchers.set(conn, batcher);
  }
  return batcher.call(request);
}

/** KEYS and ARGV of scripts.attempt for `requests` (see src/lua/attempt.lua). */
function attemptArgs(requests: readonly AttemptRequest[]): { keys: string[]; args: string[] } {
  const now = Date.now();
  const keys: string[] = [];
  const args: string[] = [String(now)];
  for (const r of requests) {
    keys.push(r.keys.lock, r.keys.fence, r.keys.waiters);
    args.push(r.owner, String(r.ttlMs), r.instance, String(now + r.markMs), r.more ? '1' : '0');
  }
  return { keys, args };
}

function toAttempt(reply: readonly unknown[], at: number): Attempt {
  return reply[at] === 1
    ? { granted: true, fencingToken: Number(reply[at + 1]) }
    : { granted: false, heldForMs: Number(reply[at + 1]) };
}

/**
 * An attempt on a dedicated connection, followed on the same socket by WAIT: the grant counts only
 * once `durability.replicas` replicas have it. A grant that did not reach them is given back here
 * and reported as {@link NotReplicatedError}.
 */
export function attemptDurably(
  conn: RedisConnection,
  request: AttemptRequest,
  durability: Durability,
): Promise<Attempt> {
  const { keys, owner, ttlMs, instance, markMs, more } = request;
  const now = Date.now();
  const args = [String(now), owner, String(ttlMs), instance, String(now + markMs), more ? '1' : '0'];
  return conn.isolated(keys.lock, async (client) => {
    const reply = (await evalThenWait(
      conn,
      client,
      scripts.attempt,
      [keys.lock, keys.fence, keys.waiters],
      args,
      durability,
    )) as [number[], number];
    const attempt = toAttempt(reply[0], 0);
    if (!attempt.granted || reply[1] >= durability.replicas) return attempt;
    await conn.bounded(
      client.sendCommand([
        'EVAL',
        scripts.releaseIfOwner.source,
        '1',
        keys.lock,
        owner,
        keys.channel,
        instance,
      ]),
    );
    throw new NotReplicatedError(keys.lock, reply[1], durability);
  });
}

/** EVALSHA (EVAL when the server does not have the script) and WAIT, written together. */
async function evalThenWait(
  conn: RedisConnection,
  client: RedisClient,
  script: { sha1: string; source: string },
  keys: string[],
  args: string[],
  durability: Durability,
): Promise<[unknown, number]> {
  const wait = ['WAIT', String(durability.replicas), String(durability.timeoutMs)];
  const timeoutMs = (conn.commandTimeoutMs || 5_000) + durability.timeoutMs;
  const send = (first: string[]) =>
    conn.bounded(
      Promise.all([client.sendCommand(first), client.sendCommand(wait) as Promise<number>]),
      timeoutMs,
      'lock acquire with WAIT',
    );
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await send(['EVALSHA', script.sha1, ...tail]);
  } catch (err) {
    if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
    return send(['EVAL', script.source, ...tail]);
  }
}

/** One attempt of a `fair` lock (see scripts.fairAttempt); `join` queues the caller if not granted. */
export async function attemptFair(
  conn: RedisConnection,
  keys: LockKeys,
  owner: string,
  ttlMs: number,
  markMs: number,
  join: boolean,
  timeoutMs: number | undefined,
): Promise<Attempt> {
  const reply = await conn.runScript<number[]>(
    scripts.fairAttempt,
    [keys.lock, keys.fence, keys.queue, keys.marks],
    [owner, String(ttlMs), String(markMs), join ? '1' : '0'],
    timeoutMs === undefined ? {} : { timeoutMs },
  );
  return toAttempt(reply, 0);
}

/**
 * A `fair` waiter leaves the queue (best effort: its mark expires anyway); a head that leaves while
 * the lock is free names the next caller (see scripts.fairLeave).
 */
export async function leaveFair(
  conn: RedisConnection,
  keys: LockKeys,
  owner: string,
  instance: string,
): Promise<void> {
  await conn.runScript(
    scripts.fairLeave,
    [keys.queue, keys.marks, keys.lock],
    [owner, keys.channel, instance],
  );
}
