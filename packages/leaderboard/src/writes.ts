import { InvalidArgumentError } from '@redis-patterns/connection';
import type { BoardContext } from './board.js';
import { fromStored, serializeData, toRaw } from './codec.js';
import type { BoardSettings, UpdatePolicy } from './options.js';
import { writeScript } from './scripts.js';

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
    data: data === undefined ? undefined : serializeData(argument, data),
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
  policy: UpdatePolicy,
  entries: PendingWrite[],
  argument: (index: number) => string,
): Promise<Array<number | null>> {
  const { conn, keys, settings } = ctx;
  const expireAt = ctx.expireAt?.() ?? 0;
  const results: Array<number | null> = [];
  for (let i = 0; i < entries.length; i += WRITE_BATCH) {
    const args = [
      String(settings.shift),
      settings.ties,
      policy,
      settings.shift > 1 ? String(settings.maxScore) : '0',
      String(settings.keepTop),
      String(expireAt),
    ];
    for (const e of entries.slice(i, i + WRITE_BATCH)) {
      args.push(e.member, String(e.raw), e.data === undefined ? '0' : '1', e.data ?? '');
    }
    let reply: Array<string | number | null>;
    try {
      reply = await conn.runScript(writeScript, [keys.scores, keys.data, keys.distinct], args);
    } catch (err) {
      const ties = err instanceof Error ? /LEADERBOARD_TIES ([^.]*?)(?: script:|$)/.exec(err.message) : null;
      if (ties !== null) throw new InvalidArgumentError('tieBreakBits', `${ties[1]}.`);
      throw err;
    }
    if (reply[0] === 0) {
      const raw = Number(reply[2]);
      const value = settings.order === 'high-to-low' ? 0 - raw : raw;
      throw new InvalidArgumentError(
        argument(i + (reply[1] as number) - 1),
        `the score would become ${value}, outside the board's range ±${settings.maxScore}; nothing was written.`,
      );
    }
    for (const s of reply.slice(1)) results.push(s === null ? null : fromStored(settings, s as string));
  }
  return results;
}
