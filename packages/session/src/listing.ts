import { decodeFields } from './codec.js';
import type { SessionCommands } from './commands/index.js';
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
async function scanHandles(commands: SessionCommands): Promise<string[]> {
  const { keys } = commands.opts;
  const handles: string[] = [];
  for await (const key of commands.keysUnderPrefix('hash')) {
    const tag = keys.tagOf(key);
    if (tag !== undefined && key === keys.key(tag) && isWellFormedId(tag)) handles.push(tag);
  }
  return handles;
}

/** Every live session under the prefix, keyed by handle. */
export async function allSessions(commands: SessionCommands): Promise<Map<string, SessionData>> {
  const handles = await scanHandles(commands);
  const sessions = await inBatches(handles, (handle) => commands.peek(handle));
  const found = new Map<string, SessionData>();
  sessions.forEach((session, i) => {
    if (session !== null)
      found.set(handles[i] as string, decodeFields(commands.opts.serializer, session.fields));
  });
  return found;
}

/** The handles of every live session under the prefix (tombstones excluded). */
export async function liveHandles(commands: SessionCommands): Promise<string[]> {
  const handles = await scanHandles(commands);
  const live = await inBatches(handles, (handle) => commands.isLive(handle));
  return handles.filter((_, i) => live[i]);
}

/** Deletes every key under the prefix: sessions, tombstones and user indexes. */
export async function clearPrefix(commands: SessionCommands): Promise<void> {
  const found: string[] = [];
  for await (const key of commands.keysUnderPrefix()) found.push(key);
  await inBatches(found, (key) => commands.deleteKey(key));
}
