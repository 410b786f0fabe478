import type { DedicatedConnection, RedisConnection } from '@redis-patterns/connection';
import type { QueueKeys } from '../keys.js';
import { scripts } from '../lua.generated.js';

// The events stream: its history switch (config field `ev`, the MAXLEN the scripts trim to), the
// blocking XREAD of a subscriber, and the non-blocking reads that position and catch it up.

/** One entry of the events stream: its id and its fields (`e` name, `j` job id, and per-event ones). */
export interface StreamEntry {
  id: string;
  fields: Map<string, string>;
}

/** The empty stream's position: every real id is after it. */
export const STREAM_START = '0-0';

/** The queue's event history length (config `ev`); 0 when the scripts write no events. */
export async function readEventHistory(conn: RedisConnection, keys: QueueKeys): Promise<number> {
  const value = await conn.send<string | null>(['HGET', keys.config, 'ev'], { key: keys.config });
  const n = Number(value ?? 0);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Sets the history length the scripts trim the stream to (`MAXLEN ~`); 0 stops writing events. */
export function setEventHistory(conn: RedisConnection, keys: QueueKeys, maxLen: number): Promise<unknown> {
  return conn.send(['HSET', keys.config, 'ev', String(maxLen)], { key: keys.config });
}

/** The id of the newest entry, or {@link STREAM_START} when the stream is empty or absent. */
export async function lastEventId(conn: RedisConnection, keys: QueueKeys): Promise<string> {
  const reply = await conn.send<unknown>(['XREVRANGE', keys.events, '+', '-', 'COUNT', '1'], {
    key: keys.events,
  });
  return parseEntries(reply)[0]?.id ?? STREAM_START;
}

/** Up to `count` entries after `afterId` (exclusive), oldest first. */
export async function readEventsAfter(
  conn: RedisConnection,
  keys: QueueKeys,
  afterId: string,
  count: number,
): Promise<StreamEntry[]> {
  const reply = await conn.send<unknown>(
    ['XRANGE', keys.events, `(${afterId}`, '+', 'COUNT', String(count)],
    { key: keys.events },
  );
  return parseEntries(reply);
}

/** Up to `count` entries at or before `atId` (inclusive), newest first. */
export async function readEventsBefore(
  conn: RedisConnection,
  keys: QueueKeys,
  atId: string,
  count: number,
): Promise<StreamEntry[]> {
  const reply = await conn.send<unknown>(['XREVRANGE', keys.events, atId, '-', 'COUNT', String(count)], {
    key: keys.events,
  });
  return parseEntries(reply);
}

/** The stream's size and counters at one instant. */
export interface StreamInfo {
  /** Entries in the stream now. */
  length: number;
  /** Entries ever added (XINFO's `entries-added`), or undefined before Redis 7.0. */
  entriesAdded: number | undefined;
  /** The oldest entry kept, or undefined when the stream is empty. */
  firstId: string | undefined;
  /** The newest id ever added (the last entry, unless deleted). */
  lastId: string;
}

/**
 * Up to `count` entries after `afterId` (exclusive; `count` 0 for none) and the stream's counters,
 * read in one script so they describe the same instant; undefined when the stream does not exist.
 */
export async function readEventsWithInfo(
  conn: RedisConnection,
  keys: QueueKeys,
  afterId: string,
  count: number,
): Promise<{ entries: StreamEntry[]; info: StreamInfo } | undefined> {
  const reply = await conn.runScript<[unknown, number, number, string | null, string] | null>(
    scripts.eventsRead,
    [keys.events],
    [afterId, String(count)],
  );
  if (reply === null) return undefined;
  const [entries, length, added, first, last] = reply;
  return {
    entries: parseEntries(entries),
    info: {
      length: Number(length),
      entriesAdded: Number(added) < 0 ? undefined : Number(added),
      firstId: first === null ? undefined : String(first),
      lastId: String(last),
    },
  };
}

/** A connection for XREAD BLOCK, leased from the blocking pool, to the node that owns the stream. */
export function leaseEventsConnection(conn: RedisConnection, keys: QueueKeys): Promise<DedicatedConnection> {
  return conn.dedicated(keys.events);
}

/**
 * XREAD of up to `count` entries after `afterId`, blocking up to `blockMs` for the first one: [] when
 * none came. Its bound allows for the block itself on top of the command timeout.
 */
export async function readEventsBlocking(
  conn: RedisConnection,
  reader: DedicatedConnection,
  keys: QueueKeys,
  afterId: string,
  count: number,
  blockMs: number,
): Promise<StreamEntry[]> {
  const xread = reader.client.sendCommand([
    'XREAD',
    'COUNT',
    String(count),
    'BLOCK',
    String(blockMs),
    'STREAMS',
    keys.events,
    afterId,
  ]) as Promise<unknown>;
  const reply = await conn.bounded(xread, blockMs + (conn.commandTimeoutMs || 5000), 'XREAD');
  // null when the block timed out; else the one stream asked, as [[key, entries]] (RESP2) or a
  // map / object of key -> entries (RESP3, or node-redis's own reply shaping).
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) return parseEntries((reply[0] as unknown[] | undefined)?.[1]);
  const values = reply instanceof Map ? [...reply.values()] : Object.values(reply as object);
  return parseEntries(values[0]);
}

/** XRANGE / XREVRANGE / XREAD entries, `[[id, [field, value, ...]], ...]`, as {@link StreamEntry}s. */
function parseEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((raw) => {
    const [id, flat] = raw as [string, string[] | null];
    const fields = new Map<string, string>();
    const list = flat ?? [];
    for (let i = 0; i + 1 < list.length; i += 2) fields.set(String(list[i]), String(list[i + 1]));
    return { id: String(id), fields };
  });
}
