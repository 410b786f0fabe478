import { ConnectionError, InvalidArgumentError } from './errors.js';
import { checkInteger } from './options.js';
import type { RedisClient, RedisCluster, RedisConnection } from './types.js';

/*
 * One page of a cluster-wide SCAN that a caller can resume in another process (a CLI run, a
 * dashboard request): `RedisConnection.scan` walks every master in one go and keeps its cursors in
 * memory, so it cannot hand a page back. The cursor given to callers is self-contained: the address
 * of the master being scanned (masters are walked in address order), that master's SCAN cursor, and
 * the keys the last SCAN returned beyond the page's count (COUNT is a hint: a reply may hold a few
 * more), so that no page holds more than `count` keys and none is skipped, also when the caller
 * deletes what it was given (re-reading from the same SCAN cursor and skipping would then skip keys).
 */

/** Largest page an inspector lists. */
export const MAX_PAGE = 1000;

/** Default page size of an inspector listing. */
export const DEFAULT_PAGE = 100;

/** SCAN calls one page may make: a page over keys mostly of other prefixes ends early with a cursor. */
const MAX_SCANS_PER_PAGE = 10;

/** A page of keys and where the next one starts (undefined: the scan is complete). */
export interface KeyPage {
  keys: string[];
  cursor: string | undefined;
}

interface Position {
  /** The master's address, '' on a single server. */
  node: string;
  /** Its SCAN cursor. */
  at: string;
  /** Keys already returned by SCAN, for the next page. */
  pending: string[];
  /** Every master was scanned to its end: only `pending` is left. */
  end: boolean;
}

/** Checks `{ cursor?, count? }` before any command; returns the page size. */
export function checkPage(options: { cursor?: unknown; count?: unknown }): number {
  if (options.cursor !== undefined) decodeCursor(options.cursor);
  checkInteger('count', options.count as number | undefined, 1);
  const count = (options.count as number | undefined) ?? DEFAULT_PAGE;
  if (count > MAX_PAGE) throw new InvalidArgumentError('count', `is ${count}; at most ${MAX_PAGE}.`);
  return count;
}

function encodeCursor(position: Position): string {
  const { node, at, pending, end } = position;
  return Buffer.from(JSON.stringify([node, at, pending, end ? 1 : 0])).toString('base64url');
}

/** Longest cursor accepted: a master's address, its cursor and a SCAN reply's overflow of keys. */
const MAX_CURSOR_LENGTH = 200_000;

function decodeCursor(cursor: unknown): Position {
  const bad = () =>
    new InvalidArgumentError('cursor', 'expected the cursor a previous page returned, unchanged.');
  if (typeof cursor !== 'string' || cursor === '' || cursor.length > MAX_CURSOR_LENGTH) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const [node, at, pending, end] = Array.isArray(parsed) ? parsed : [];
  if (typeof node !== 'string' || typeof at !== 'string' || !/^\d+$/.test(at)) throw bad();
  if (!Array.isArray(pending) || !pending.every((key) => typeof key === 'string')) throw bad();
  if (end !== 0 && end !== 1) throw bad();
  return { node, at, pending, end: end === 1 };
}

/** The nodes a scan walks, in a stable order: every master by address, or the one server. */
function nodesOf(conn: RedisConnection): Array<{ address: string; client: () => Promise<RedisClient> }> {
  if (conn.topology !== 'cluster') return [{ address: '', client: async () => conn.client }];
  const cluster = conn.client as unknown as RedisCluster;
  return [...cluster.masters]
    .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
    .map((master) => ({
      address: master.address,
      client: () => cluster.nodeClient(master) as Promise<RedisClient>,
    }));
}

/**
 * At most `count` keys matching `pattern`, from where `cursor` left off, and the cursor of the next
 * page (undefined: every master was scanned). Each SCAN is bounded by the connection's command
 * timeout, and a page makes at most ten.
 */
export async function scanPage(
  conn: RedisConnection,
  pattern: string,
  options: { cursor?: string | undefined; count: number; type?: string },
): Promise<KeyPage> {
  // A closed connection refuses here with ClosedError, as each of its commands would.
  await conn.bounded(Promise.resolve(), undefined, 'SCAN');
  const nodes = nodesOf(conn);
  if (nodes.length === 0) {
    throw new ConnectionError('SCAN failed: no master of the Cluster is known yet; retry shortly.');
  }
  const start = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
  let index =
    start === undefined ? 0 : start.end ? nodes.length : nodes.findIndex((n) => n.address === start.node);
  if (index === -1) {
    throw new InvalidArgumentError(
      'cursor',
      `names ${start?.node}, no longer a master of this Cluster (a failover or a new topology since the page was read); list again from the start.`,
    );
  }
  let at = start?.at ?? '0';
  const keys = [...(start?.pending ?? [])];
  // `done`: every master was scanned to its end; the keys found are all there is.
  let done = index === nodes.length;
  for (let calls = 0; !done && calls < MAX_SCANS_PER_PAGE && keys.length < options.count; calls++) {
    const node = nodes[index] as (typeof nodes)[number];
    const client = await conn.bounded(node.client(), undefined, 'SCAN (connecting to a master)');
    const reply = await conn.bounded(
      client.scan(at, {
        MATCH: pattern,
        COUNT: options.count - keys.length,
        ...(options.type === undefined ? {} : { TYPE: options.type }),
      }),
      undefined,
      'SCAN',
    );
    for (const key of reply.keys) keys.push(String(key));
    at = String(reply.cursor);
    if (at === '0') {
      index++;
      done = index === nodes.length;
    }
  }
  let page = keys.slice(0, options.count);
  let pending = keys.slice(options.count);
  const node = nodes[index]?.address ?? '';
  // Overflow keys so long that the cursor would pass what decodeCursor accepts go in this page
  // instead (a page then holds more than `count`: rare, and better than a cursor refused next time).
  if (encodeCursor({ node, at, pending, end: done }).length > MAX_CURSOR_LENGTH) {
    page = keys;
    pending = [];
  }
  if (done && pending.length === 0) return { keys: page, cursor: undefined };
  return { keys: page, cursor: encodeCursor({ node, at, pending, end: done }) };
}
