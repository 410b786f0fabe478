import type { Envelope } from './envelope.js';
import type { NearCacheOptions } from './options.js';

interface NearEntry {
  envelope: Envelope;
  value: unknown;
  expiresAt: number;
  bytes: number;
}

/** Proof that a read started at a given moment; the reply may be kept only if nothing changed since. */
export interface ReadTicket {
  key: string;
  epoch: number;
}

// Rough per-entry overhead (Map slot, objects, key string) added to the stored size.
const ENTRY_OVERHEAD_BYTES = 200;

/**
 * The in-process first tier. It serves only while Redis client tracking is live (see tracking.ts), and
 * closes the classic race of client-side caching: an invalidation that arrives on the tracking connection
 * while a GET of the same key is still in flight on the data connection. Every read takes a ticket
 * first; an invalidation marks in-flight tickets of that key dirty, and a dirty or pre-flush ticket's
 * reply is returned to the caller but never kept.
 */
export class NearCache {
  readonly #entries = new Map<string, NearEntry>();
  /** Tag key -> version token, for checking tagged entries without a round trip. */
  readonly #tags = new Map<string, string>();
  readonly #inFlight = new Map<string, number>();
  readonly #dirty = new Set<string>();
  readonly #limits: Required<NearCacheOptions>;
  #bytes = 0;
  #epoch = 0;
  #live = false;

  constructor(limits: Required<NearCacheOptions>) {
    this.#limits = limits;
  }

  /** True while every tracking connection is subscribed: only then may entries be served or kept. */
  get live(): boolean {
    return this.#live;
  }

  setLive(live: boolean): void {
    // Whatever was cached or read before this moment may have missed an invalidation.
    this.flush();
    this.#live = live;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  get(key: string, now: number): NearEntry | undefined {
    if (!this.#live) return undefined;
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#drop(key, entry);
      return undefined;
    }
    // Least recently used order: re-insert at the end.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /** The locally known version of a tag key, if tracked. */
  tagVersion(tagKey: string): string | undefined {
    return this.#live ? this.#tags.get(tagKey) : undefined;
  }

  begin(key: string): ReadTicket {
    this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1);
    return { key, epoch: this.#epoch };
  }

  /** Ends a read; true when its reply may be kept (no invalidation or flush happened meanwhile). */
  end(ticket: ReadTicket): boolean {
    const left = (this.#inFlight.get(ticket.key) ?? 1) - 1;
    const clean = this.#live && ticket.epoch === this.#epoch && !this.#dirty.has(ticket.key);
    if (left <= 0) {
      this.#inFlight.delete(ticket.key);
      this.#dirty.delete(ticket.key);
    } else this.#inFlight.set(ticket.key, left);
    return clean;
  }

  keep(ticket: ReadTicket, envelope: Envelope, value: unknown, freshUntil: number, now: number): void {
    if (!this.end(ticket)) return;
    const bytes = envelope.bytes + ticket.key.length * 2 + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.#limits.maxBytes) return;
    const old = this.#entries.get(ticket.key);
    if (old !== undefined) this.#drop(ticket.key, old);
    const expiresAt = Math.min(freshUntil, now + this.#limits.ttlMs);
    this.#entries.set(ticket.key, { envelope, value, expiresAt, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#limits.maxEntries && this.#bytes <= this.#limits.maxBytes) break;
      this.#drop(oldest, entry);
    }
  }

  keepTag(ticket: ReadTicket, version: string | null): void {
    if (!this.end(ticket) || version === null) return;
    this.#tags.set(ticket.key, version);
    if (this.#tags.size > this.#limits.maxEntries) {
      const oldest = this.#tags.keys().next().value;
      if (oldest !== undefined) this.#tags.delete(oldest);
    }
  }

  /** A key (entry or tag) changed in Redis: forget it and spoil reads of it still in flight. */
  invalidate(key: string): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.#drop(key, entry);
    this.#tags.delete(key);
    if (this.#inFlight.has(key)) this.#dirty.add(key);
  }

  /** Forgets everything, including replies still in flight. */
  flush(): void {
    this.#epoch++;
    this.#entries.clear();
    this.#tags.clear();
    this.#dirty.clear();
    this.#bytes = 0;
  }

  #drop(key: string, entry: NearEntry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }
}
