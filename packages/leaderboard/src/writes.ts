import { InvalidArgumentError } from '@redis-patterns/connection';
import type { BoardContext } from './board.js';
import { fromStored, serializeData, toRaw } from './codec.js';
import type { BoardCommands, WriteReply } from './commands/index.js';
import type { BoardSettings, UpdatePolicy } from './options.js';

/** One validated write, ready for the script: the raw ("lower is better") value and JSON data. */
export interface PendingWrite {
  member: string;
  raw: number;
  data: string | undefined;
}

/** Entries per write script call: Redis runs a script alone, so a batch is bounded. */
const WRITE_BATCH = 1000;

/** Callers validate member and value first; this serializes data, throwing InvalidArgumentError for what JSON cannot hold. */
export function pending(
  settings: BoardSettings,
  member: string,
  value: number,
  data: unknown,
  argument: string,
): PendingWrite {
  return {
    member,
    raw: toRaw(settings, value),
    data: data === undefined ? undefined : serializeData(argument, data, settings.maxDataBytes),
  };
}

/**
 * Runs the write script over `entries`, 1,000 per call, and resolves to each member's score after
 * its batch (null if trimmed by keepTop). An increment leaving the allowed range rejects its whole
 * batch with InvalidArgumentError naming `argument(index)`. A score group that would exceed 2^bits
 * members stops the batch at that entry (InvalidArgumentError 'tieBreakBits'; earlier entries stay).
 */
export async function write(
  ctx: BoardContext,
  commands: BoardCommands,
  policy: UpdatePolicy,
  entries: PendingWrite[],
  argument: (index: number) => string,
): Promise<Array<number | null>> {
  const { settings } = ctx;
  const expireAt = ctx.expireAt?.() ?? 0;
  const results: Array<number | null> = [];
  for (let i = 0; i < entries.length; i += WRITE_BATCH) {
    const reply = await commands.write(policy, expireAt, entries.slice(i, i + WRITE_BATCH));
    if (reply[0] !== 1) {
      const at = i + (reply[1] as number) - 1;
      throw writeFailure(settings, reply, argument(at), expireAt, 'The entries before it were written.');
    }
    for (const s of reply.slice(1)) results.push(s === null ? null : fromStored(settings, s as string));
  }
  return results;
}

/**
 * The error of a write script's refusal: {-2} a cycle past its expiry, {-1, at, size} a full score
 * group, {0, at, value} an increment out of range. `argument` names the value at fault; `partial`
 * says what a full group left written.
 */
export function writeFailure(
  settings: BoardSettings,
  reply: WriteReply,
  argument: string,
  expireAt: number,
  partial: string,
): InvalidArgumentError {
  if (reply[0] === -2) {
    return new InvalidArgumentError(
      'date',
      `the cycle's keys would expire at ${new Date(expireAt).toISOString()}, which has passed on the Redis server's clock; nothing was written.`,
    );
  }
  if (reply[0] === -1) {
    return new InvalidArgumentError(
      'tieBreakBits',
      `${reply[2]} members share one score (at ${argument}); raise tieBreakBits. ${partial}`,
    );
  }
  // Lua formats an overflow as "inf" / "-inf" (and NaN as "nan" or "-nan").
  const text = String(reply[2]);
  const raw = /^-?inf$/.test(text) ? Number(text.replace('inf', 'Infinity')) : Number(text);
  const value = settings.order === 'high-to-low' ? 0 - raw : raw;
  return new InvalidArgumentError(
    argument,
    Number.isFinite(value)
      ? `the score would become ${value}, outside the board's range ±${settings.maxScore}; nothing was written.`
      : `the score would overflow to ${value}; nothing was written.`,
  );
}
