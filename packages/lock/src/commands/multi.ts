/**
 * The commands of `acquireAll()`: one script per group of names that share a hash slot, to take
 * the group all or nothing, to extend it and to release it. The keys are described in index.ts.
 */
import type { RedisConnection } from '@redis-patterns/connection';
import { scripts } from '../lua.generated.js';
import type { LockKeys } from './index.js';

/** Names of one hash slot, taken and held together; `owners[i]` owns `keys[i]`. */
export interface MultiGroup {
  keys: readonly LockKeys[];
  owners: readonly string[];
}

/** A group's grant (a token per name, in group order), or the first held name and its PTTL. */
export type MultiAttempt =
  | { granted: true; fencingTokens: number[] }
  | { granted: false; heldIndex: number; heldForMs: number };

/** Per name: held by us, gone (expired or deleted), or held by another owner. */
export type NameState = 'ours' | 'expired' | 'taken';

/** The KEYS of a group's script: these parts of each name's keys, name after name. */
function allKeys(group: MultiGroup, parts: ReadonlyArray<keyof LockKeys>): string[] {
  return group.keys.flatMap((k) => parts.map((part) => k[part]));
}

/**
 * Takes every name of `group` if all are free, else none (see src/lua/multi-attempt.lua).
 * `unmark`: this caller marked itself waiting on an earlier attempt, and the grant clears it.
 */
export async function attemptGroup(
  conn: RedisConnection,
  group: MultiGroup,
  request: {
    ttlMs: number;
    instance: string;
    markMs: number;
    unmark: boolean;
    timeoutMs: number | undefined;
  },
): Promise<MultiAttempt> {
  const now = Date.now();
  const keys = allKeys(group, ['lock', 'fence', 'waiters']);
  const args = [
    String(now),
    String(request.ttlMs),
    request.instance,
    String(now + request.markMs),
    request.unmark ? '1' : '0',
    ...group.owners,
  ];
  const options = request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs };
  const reply = await conn.runScript<number[]>(scripts.multiAttempt, keys, args, options);
  if (reply[0] === 1) return { granted: true, fencingTokens: reply.slice(1).map(Number) };
  return { granted: false, heldIndex: Number(reply[1]) - 1, heldForMs: Number(reply[2]) };
}

function toStates(reply: readonly number[]): NameState[] {
  return reply.map((r) => (r === 1 ? 'ours' : r === 0 ? 'expired' : 'taken'));
}

/** Sets the TTL of every name of `group` still ours (src/lua/multi-extend.lua); bounded by `timeoutMs`. */
export async function extendGroup(
  conn: RedisConnection,
  group: MultiGroup,
  ttlMs: number,
  timeoutMs: number | undefined,
): Promise<NameState[]> {
  const keys = allKeys(group, ['lock']);
  const options = timeoutMs === undefined ? {} : { timeoutMs };
  const reply = await conn.runScript<number[]>(
    scripts.multiExtend,
    keys,
    [String(ttlMs), ...group.owners],
    options,
  );
  return toStates(reply);
}

/** Deletes every name of `group` still ours and wakes its waiters (src/lua/multi-release.lua). */
export async function releaseGroup(
  conn: RedisConnection,
  group: MultiGroup,
  instance: string,
): Promise<NameState[]> {
  const keys = allKeys(group, ['lock']);
  const args = [instance, ...group.keys.flatMap((k, i) => [group.owners[i] as string, k.channel])];
  return toStates(await conn.runScript<number[]>(scripts.multiRelease, keys, args));
}
