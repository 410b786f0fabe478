import { ConnectionError } from './errors.js';
import { slotOf, tagHash, tagOf } from './keys.js';
import type { RedisClient } from './types.js';

interface InFlight {
  count: number;
  lane: number;
  /** Settles when the newest command on the tag has been answered. */
  last: Promise<unknown>;
  /** Set while the newest command on the tag waits to be sent; resolves once it is. */
  gate: Promise<void> | undefined;
}

/**
 * The sockets to one standalone server and the order of commands over them.
 *
 * A write (any command not marked `readonly`) counts, per hash tag of its keys, until it settles,
 * with the socket it took; a later command on one of those tags takes that socket too, so it cannot
 * overtake the write. A tag with nothing in flight may take any socket, as nothing is left to
 * overtake: its own socket by tag hash for a plain command, the batch's for a key batched with
 * others (so a batch of many keys stays one call), any for a read. Tags are counted exactly (not by
 * a hash bucket): a collision would tie unrelated keys to a socket. A command whose tags are in
 * flight on two sockets (its keys were not grouped by `groupBySlot`) waits until the earlier ones
 * are answered, and later commands on its tags wait for it to be sent: slower, never out of order.
 * While the socket a tag is pinned to reconnects, commands on that tag fail fast; other tags move to
 * the first socket, whose readiness the connection checks before anything reaches here.
 */
export class Lanes {
  readonly clients: readonly RedisClient[];
  readonly #lastError: () => Error | undefined;
  readonly #inFlight = new Map<string, InFlight>();
  #turn = 0;

  constructor(clients: readonly RedisClient[], lastError: () => Error | undefined) {
    this.clients = clients;
    this.#lastError = lastError;
  }

  /** Sends a command on `keys` by the rule above; `send` may be called later, or never. */
  send<T>(keys: readonly string[], readonly: boolean, send: (lane: RedisClient) => Promise<T>): Promise<T> {
    const tags = tagsOf(keys);
    if (!readonly) return this.counted(tags, this.#routeOfTags(keys, tags), send);
    // A read of a tag with writes in flight goes after them (behind a waiting one, once it is sent).
    const entry = this.#firstInFlight(tags);
    if (entry === undefined) {
      const client = this.clients[this.#turn++ % this.clients.length] as RedisClient;
      return send(client.isReady ? client : (this.clients[0] as RedisClient));
    }
    const { lane, gate } = entry;
    const go = () => this.#sendOn(lane, send);
    return gate === undefined ? go() : gate.then(go);
  }

  /** The socket a write on `keys` takes now (a ready one, or -1 if its tag's socket is down). */
  laneFor(keys: readonly string[]): number {
    const tags = tagsOf(keys);
    const lane = this.#routeOfTags(keys, tags);
    if ((this.clients[lane] as RedisClient).isReady) return lane;
    return this.#firstInFlight(tags) === undefined ? 0 : -1;
  }

  /** The socket of a tag with writes in flight, or -1 (for grouping keys by socket). */
  laneOfKey(key: string): number {
    return this.#inFlight.get(tagOf(key))?.lane ?? -1;
  }

  /** Sends and counts a write under `tags` (a tag twice counts twice) until it settles. */
  counted<T>(tags: readonly string[], lane: number, send: (client: RedisClient) => Promise<T>): Promise<T> {
    let pinned = false;
    let conflict = false;
    for (const tag of tags) {
      const entry = this.#inFlight.get(tag);
      if (entry === undefined) continue;
      pinned = true;
      if (entry.lane !== lane || entry.gate !== undefined) conflict = true;
    }
    let used = lane;
    if (!(this.clients[lane] as RedisClient).isReady) {
      if (pinned) return Promise.reject(this.#down(lane));
      used = 0;
    }
    let command: Promise<T>;
    let gate: Promise<void> | undefined;
    if (!conflict) command = send(this.clients[used] as RedisClient);
    else {
      // Everything earlier on these tags first: answered on other sockets, sent on this one.
      const earlier: Array<Promise<unknown>> = [];
      for (const tag of tags) {
        const entry = this.#inFlight.get(tag);
        if (entry === undefined) continue;
        earlier.push(entry.lane === used ? (entry.gate ?? Promise.resolve()) : entry.last);
      }
      let open: () => void = () => {};
      gate = new Promise<void>((resolve) => (open = resolve));
      command = Promise.allSettled(earlier).then(() => {
        try {
          return this.#sendOn(used, send);
        } finally {
          open();
        }
      });
    }
    this.#count(tags, used, command, gate);
    return command;
  }

  /** Tags of `keys`, for {@link Lanes.counted}. */
  tagsOf(keys: readonly string[]): string[] {
    return tagsOf(keys);
  }

  #count(tags: readonly string[], lane: number, command: Promise<unknown>, gate: Promise<void> | undefined) {
    // One reaction both uncounts the write and is what later commands on its tags wait for.
    const uncount = () => {
      for (const tag of tags) {
        const entry = this.#inFlight.get(tag) as InFlight;
        if (--entry.count === 0) this.#inFlight.delete(tag);
      }
    };
    const settled = command.then(uncount, uncount);
    for (const tag of tags) {
      const entry = this.#inFlight.get(tag);
      if (entry === undefined) this.#inFlight.set(tag, { count: 1, lane, last: settled, gate });
      else {
        entry.count++;
        entry.lane = lane;
        entry.last = settled;
        entry.gate = gate;
      }
    }
    if (gate !== undefined) {
      gate.then(() => {
        for (const tag of tags) {
          const entry = this.#inFlight.get(tag);
          if (entry !== undefined && entry.gate === gate) entry.gate = undefined;
        }
      });
    }
  }

  #sendOn<T>(lane: number, send: (client: RedisClient) => Promise<T>): Promise<T> {
    const client = this.clients[lane] as RedisClient;
    return client.isReady ? send(client) : Promise.reject(this.#down(lane));
  }

  // The writes in flight of the first of `tags` that has any.
  #firstInFlight(tags: readonly string[]): InFlight | undefined {
    for (const tag of tags) {
      const entry = this.#inFlight.get(tag);
      if (entry !== undefined) return entry;
    }
    return undefined;
  }

  #routeOfTags(keys: readonly string[], tags: readonly string[]): number {
    const entry = this.#firstInFlight(tags);
    if (entry !== undefined) return entry.lane;
    return keys.length === 0 ? 0 : tagHash(keys[0] as string) % this.clients.length;
  }

  #down(lane: number): ConnectionError {
    const last = this.#lastError();
    return new ConnectionError(
      `The command was not sent: socket ${lane} to Redis, which holds earlier commands on one of its keys, is reconnecting${last ? ` (${last.message})` : ''}.`,
      { cause: last },
    );
  }
}

/**
 * `groupBySlot` (see RedisConnection): one group per hash slot on Cluster; on a single server with
 * several sockets, one group per socket that holds writes to some of the keys' tags, and the keys
 * with nothing in flight with the first group, after its keys that decide its socket.
 */
export function groupKeys<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  cluster: boolean,
  lanes: Lanes,
): T[][] {
  if (items.length === 0) return [];
  if (!cluster && lanes.clients.length < 2) return [[...items]];
  const groups = new Map<number, T[]>();
  const free: T[] = [];
  for (const item of items) {
    const key = keyOf(item);
    const at = cluster ? slotOf(key) : lanes.laneOfKey(key);
    if (at < 0) {
      free.push(item);
      continue;
    }
    const group = groups.get(at);
    if (group === undefined) groups.set(at, [item]);
    else group.push(item);
  }
  const all = [...groups.values()];
  if (free.length > 0) {
    if (all.length === 0) all.push(free);
    else (all[0] as T[]).push(...free);
  }
  return all;
}

function tagsOf(keys: readonly string[]): string[] {
  const tags = new Array<string>(keys.length);
  for (let i = 0; i < keys.length; i++) tags[i] = tagOf(keys[i] as string);
  return tags;
}
