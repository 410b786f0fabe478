import { escapeGlob } from '@redis-patterns/connection';
import { decodeFields } from './codec.js';
import type { Engine } from './engine.js';
import { isWellFormedId } from './ids.js';
import type { SessionData } from './types.js';

// The express-session Store's bulk methods. SCAN runs on every master and every other command is
// sent key by key (batched), so nothing here is a multi-key command: no CROSSSLOT on Cluster.

const BATCH = 100;

async function inBatches<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += BATCH)
    results.push(...(await Promise.all(items.slice(i, i + BATCH).map(fn))));
  return results;
}

/** Handles of every session-shaped key under the prefix (tombstones included: they are hashes too). */
async function scanHandles(engine: Engine): Promise<string[]> {
  const { conn, keys } = engine.opts;
  const handles: string[] = [];
  for await (const key of conn.scan(`${escapeGlob(keys.prefix)}{*`, { type: 'hash' })) {
    const tag = keys.tagOf(key);
    if (tag !== undefined && key === keys.key(tag) && isWellFormedId(tag)) handles.push(tag);
  }
  return handles;
}

/** Every live session under the prefix, keyed by handle. */
export async function allSessions(engine: Engine): Promise<Map<string, SessionData>> {
  const handles = await scanHandles(engine);
  const sessions = await inBatches(handles, (handle) => engine.peek(handle));
  const found = new Map<string, SessionData>();
  sessions.forEach((session, i) => {
    if (session !== null)
      found.set(handles[i] as string, decodeFields(engine.opts.serializer, session.fields));
  });
  return found;
}

/** The handles of every live session under the prefix (tombstones excluded). */
export async function liveHandles(engine: Engine): Promise<string[]> {
  const { conn } = engine.opts;
  const handles = await scanHandles(engine);
  const live = await inBatches(handles, (handle) => {
    const key = engine.sessionKey(handle);
    return conn.send<number>(['HEXISTS', key, 'a'], { key });
  });
  return handles.filter((_, i) => live[i] === 1);
}

/** Deletes every key under the prefix: sessions, tombstones and user indexes. */
export async function clearPrefix(engine: Engine): Promise<void> {
  const { conn, keys } = engine.opts;
  const found: string[] = [];
  for await (const key of conn.scan(`${escapeGlob(keys.prefix)}{*`)) found.push(key);
  await inBatches(found, (key) => conn.send(['DEL', key], { key }));
}
