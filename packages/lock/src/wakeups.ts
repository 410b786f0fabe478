import type { RedisClient, RedisConnection } from '@redis-patterns/connection';
import {
  closeSubscriber,
  openSubscriber,
  type ReleaseListener,
  shardSubscribe,
  shardUnsubscribe,
} from './commands/index.js';

/**
 * The subscriber closes after this long without any wait, so that it never keeps a finished script
 * alive; a steady stream of waits keeps it open.
 */
const IDLE_CLOSE_MS = 1_000;

/** A listener of a release channel: the releasing instance, and for a fair lock the owner whose turn it is. */
type OnRelease = (by: string, next?: string) => void;

/**
 * Release notifications over sharded pub/sub (the subscriber and its SSUBSCRIBE are in
 * commands/subscriber.ts): each lock name has a channel in the lock's own hash slot, so on Cluster
 * the message is published and delivered by the node that owns the lock, whichever node that is.
 *
 * One subscriber connection per lock instance, opened on the first wait and closed again after
 * IDLE_CLOSE_MS without one; listeners of the same channel share its subscription. Pub/sub is
 * fire-and-forget: a message sent while the subscriber reconnects is lost, which is why waiters
 * also poll. If subscribing fails (Redis < 7, ACL without SSUBSCRIBE), waiters just poll.
 */
export class ReleaseWakeups {
  readonly #conn: RedisConnection;
  readonly #channels = new Map<string, { listeners: Set<OnRelease>; ready: Promise<boolean> }>();
  #subscriber: Promise<RedisClient | undefined> | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #unsubscribing = new Set<Promise<unknown>>();

  constructor(conn: RedisConnection) {
    this.#conn = conn;
  }

  /**
   * Calls `onRelease` with the releasing instance's id for each release of `channel` (and, for a
   * fair lock's release, `next`: the owner whose turn it is); resolves true once Redis confirmed the
   * subscription.
   */
  listen(channel: string, onRelease: OnRelease): Promise<boolean> {
    clearTimeout(this.#idleTimer);
    const existing = this.#channels.get(channel);
    if (existing !== undefined) {
      existing.listeners.add(onRelease);
      return existing.ready;
    }
    const entry = { listeners: new Set([onRelease]), ready: Promise.resolve(false) };
    this.#channels.set(channel, entry);
    entry.ready = (async () => {
      const subscriber = await this.#open();
      if (subscriber === undefined || this.#channels.get(channel) !== entry) return false;
      try {
        await shardSubscribe(this.#conn, subscriber, channel, this.#dispatch);
        return true;
      } catch {
        return false;
      }
    })();
    return entry.ready;
  }

  /** Stops calling `onRelease`; the channel is unsubscribed when nobody listens any more. */
  unlisten(channel: string, onRelease: OnRelease): void {
    const entry = this.#channels.get(channel);
    if (entry === undefined || !entry.listeners.delete(onRelease) || entry.listeners.size > 0) return;
    this.#channels.delete(channel);
    const subscriber = this.#subscriber;
    if (subscriber !== undefined) {
      const done = subscriber
        .then((s) => s && shardUnsubscribe(this.#conn, s, channel, this.#dispatch))
        .catch(() => {})
        .finally(() => this.#unsubscribing.delete(done));
      this.#unsubscribing.add(done);
    }
    if (this.#channels.size === 0) {
      this.#idleTimer = setTimeout(() => {
        if (this.#channels.size === 0) void this.#dropSubscriber();
      }, IDLE_CLOSE_MS);
      this.#idleTimer.unref();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    // Subscriptions still on their way are waited for below, like unsubscriptions.
    const subscribing = [...this.#channels.values()].map((entry) => entry.ready);
    this.#channels.clear();
    await this.#dropSubscriber(subscribing);
  }

  async #dropSubscriber(subscribing: Promise<boolean>[] = []): Promise<void> {
    const opening = this.#subscriber;
    this.#subscriber = undefined; // the next wait opens a fresh one
    const subscriber = await opening;
    if (subscriber === undefined) return;
    // A Cluster closed while an SSUBSCRIBE or SUNSUBSCRIBE is on its way (its shard connection
    // still connecting) leaves that connection open, and the process never exits: let those finish
    // first (each is bounded).
    await Promise.all([...subscribing, ...this.#unsubscribing]);
    await closeSubscriber(this.#conn, subscriber);
  }

  /**
   * A release message carries the releasing lock instance's id (empty for forceRelease); a fair
   * lock's release adds a newline and the owner whose turn it is (empty when nobody waits).
   */
  readonly #dispatch: ReleaseListener = (message, channel) => {
    const entry = this.#channels.get(channel);
    if (entry === undefined) return;
    const cut = message.indexOf('\n');
    const by = cut < 0 ? message : message.slice(0, cut);
    const next = cut < 0 ? undefined : message.slice(cut + 1);
    for (const listener of entry.listeners) listener(by, next);
  };

  #open(): Promise<RedisClient | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    this.#subscriber ??= (async () => {
      const subscriber = await openSubscriber(this.#conn);
      if (subscriber === undefined) this.#subscriber = undefined; // try again on the next wait
      return subscriber;
    })();
    return this.#subscriber;
  }
}
