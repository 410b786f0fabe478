import { ClosedError, type DedicatedConnection, type RedisConnection } from '@redis-patterns/connection';
import {
  blockingClientId,
  leaseEventsConnection,
  readEventsBlocking,
  readEventsWithInfo,
  STREAM_START,
  type StreamEntry,
  unblockClient,
} from './commands/index.js';
import type { QueueKeys } from './keys.js';

/** Entries per XREAD; the gap check is exact while the history keeps at least this many. */
export const READ_COUNT = 100;
/** Entries per catch-up read (the script that also reads the stream's counters). */
const SYNC_COUNT = 1000;

/** Where a {@link StreamReader} delivers. */
export interface StreamSink {
  /** One entry, in stream order; the reader's `lastId` is already this entry's id. */
  entry(entry: StreamEntry): void;
  /** Entries after `afterId` were trimmed before they were read: `missed` of them, or an unknown number. */
  gap(afterId: string, missed: number | undefined): void;
  /** A failed read (the reader retries) or, with a {@link ClosedError}, the end of the reader. */
  error(error: Error): void;
}

/** Orders two full stream ids (`ms-seq`): negative, zero or positive like a comparator. */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** Where a {@link StreamReader} starts. */
export interface StreamStart {
  /** Deliver the entries after this id. */
  afterId: string;
  /**
   * Entries ever added up to and including `afterId` (XINFO's `entries-added` when it was the last
   * id), when known: it is what tells trimmed-unread entries from trimmed-read ones.
   */
  ordinal: number | undefined;
  /** Replaying from the start: entries trimmed before it started are no gap. */
  replay: boolean;
  /** Longest one XREAD blocks. */
  blockMs: number;
}

/**
 * Follows the events stream with XREAD BLOCK on a dedicated connection. A failed read (connection
 * lost, failover, timeout) drops that connection, waits a little (100 ms doubling to 2 s) and reads
 * again after the last id it delivered, on a fresh connection to the node that owns the stream
 * now: nothing is delivered twice and nothing still in the stream is skipped.
 *
 * Gaps (entries trimmed before they were read) are found by counting. The reader knows how many
 * entries were ever added up to its position (its ordinal); a catch-up read (one script: entries
 * and XINFO counters of one instant) finds `entries-added - length` entries trimmed, and any beyond
 * the ordinal were never read. Catch-up reads run at the start from a saved id, after a reconnect,
 * and whenever an XREAD comes back full: a non-full XREAD cannot follow a gap, because a trim
 * (`MAXLEN ~` keeps at least MAXLEN entries) that took an entry after ours leaves at least MAXLEN
 * >= {@link READ_COUNT} newer ones. A full XREAD's entries are not delivered; the catch-up read
 * reads them again. Needs Redis 7.0 (`entries-added`); on older Redis gaps go unreported.
 */
export class StreamReader {
  readonly #conn: RedisConnection;
  readonly #keys: QueueKeys;
  readonly #blockMs: number;
  readonly #sink: StreamSink;
  #lastId: string;
  #ordinal: number | undefined;
  #replay: boolean;
  #catchUp: boolean;
  #closed = false;
  #reader: DedicatedConnection | undefined;
  #readerId: string | undefined;
  #reading = false;
  #pause: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  #done: Promise<void> = Promise.resolve();

  constructor(conn: RedisConnection, keys: QueueKeys, start: StreamStart, sink: StreamSink) {
    this.#conn = conn;
    this.#keys = keys;
    this.#lastId = start.afterId;
    this.#ordinal = start.ordinal;
    this.#replay = start.replay;
    this.#catchUp = start.ordinal === undefined;
    this.#blockMs = start.blockMs;
    this.#sink = sink;
  }

  /** The id of the last entry delivered (or the starting position, before any). */
  get lastId(): string {
    return this.#lastId;
  }

  start(): void {
    this.#done = this.#run();
  }

  /** Ends the pending XREAD now and resolves once the loop is over and its connection let go. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#pause?.resolve();
      if (this.#reading) this.#interrupt();
    }
    return this.#done;
  }

  /**
   * A pending XREAD BLOCK is ended with CLIENT UNBLOCK, so its connection goes back to the pool
   * rather than being torn down; where CLIENT is not allowed (or it fails) the connection is closed.
   */
  #interrupt(): void {
    const reader = this.#reader;
    if (reader === undefined) return;
    if (this.#readerId === undefined) {
      reader.destroy();
      return;
    }
    unblockClient(this.#conn, this.#keys, this.#readerId).then(
      (unblocked) => {
        // 0: the XREAD had not reached Redis yet, and would block for blockMs.
        if (Number(unblocked) !== 1 && this.#reading) reader.destroy();
      },
      () => reader.destroy(),
    );
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      try {
        if (this.#catchUp) {
          await this.#readCatchUp();
          failures = 0;
          continue;
        }
        if (this.#reader === undefined) {
          this.#reader = await leaseEventsConnection(this.#conn, this.#keys);
          this.#readerId = await blockingClientId(this.#conn, this.#reader);
          continue; // closed meanwhile?
        }
        this.#reading = true;
        const entries = await readEventsBlocking(
          this.#conn,
          this.#reader,
          this.#keys,
          this.#lastId,
          READ_COUNT,
          this.#blockMs,
        );
        this.#reading = false;
        failures = 0;
        if (entries.length >= READ_COUNT)
          this.#catchUp = true; // behind: maybe a gap, re-read
        else this.#deliver(entries);
      } catch (err) {
        this.#reading = false;
        // Its state is unknown (a reply may still come): never reuse it.
        this.#reader?.destroy();
        this.#reader = undefined;
        this.#readerId = undefined;
        if (this.#closed) break;
        const error = err instanceof Error ? err : new Error(String(err));
        this.#sink.error(error);
        if (error instanceof ClosedError) {
          this.#closed = true; // the connection was closed: nothing to reconnect to
          break;
        }
        this.#catchUp = true;
        await this.#wait(Math.min(100 * 2 ** failures++, 2000));
      }
    }
    this.#reader?.release();
    this.#reader = undefined;
  }

  /** One catch-up read: entries after ours and the counters that say whether any were trimmed unread. */
  async #readCatchUp(): Promise<void> {
    const read = await readEventsWithInfo(this.#conn, this.#keys, this.#lastId, SYNC_COUNT);
    if (this.#closed) return;
    if (read === undefined) {
      // No stream (nothing written yet, or the queue was purged): wait for one with XREAD.
      if (this.#lastId === STREAM_START) this.#ordinal = 0;
      this.#catchUp = false;
      return;
    }
    const { entries, info } = read;
    const trimmed = info.entriesAdded === undefined ? undefined : info.entriesAdded - info.length;
    // Our position is older than everything kept: whatever came between it and the oldest is gone.
    const oldest = info.firstId ?? info.lastId;
    if (trimmed !== undefined && compareIds(oldest, this.#lastId) > 0) {
      if (this.#ordinal !== undefined) {
        if (trimmed > this.#ordinal) this.#sink.gap(this.#lastId, trimmed - this.#ordinal);
      } else if (!this.#replay) {
        this.#sink.gap(this.#lastId, undefined); // resumed from an id older than the history
      }
      this.#ordinal = trimmed;
    }
    this.#replay = false;
    this.#deliver(entries);
    if (entries.length >= SYNC_COUNT) return;
    this.#catchUp = false;
    // Read to the end of that instant: the last id's ordinal is the count of entries ever added.
    if (info.entriesAdded !== undefined && this.#lastId === info.lastId) this.#ordinal = info.entriesAdded;
  }

  #deliver(entries: readonly StreamEntry[]): void {
    for (const entry of entries) {
      if (this.#closed) return;
      this.#lastId = entry.id;
      if (this.#ordinal !== undefined) this.#ordinal++;
      this.#sink.entry(entry);
    }
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#pause = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#pause = { timer, resolve: done };
    });
  }
}
