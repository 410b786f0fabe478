import { type Engine, tagsCurrent } from './entries.js';
import { decodeEnvelope, decodeValue, stateOf } from './envelope.js';
import type { EntryInfo } from './types.js';

/** {@link Cache.inspect}: the entry as stored, with its state and remaining TTL; undefined if absent or corrupt. */
export async function inspectEntry<T>(
  e: Engine,
  key: string,
  timeoutMs: number,
): Promise<EntryInfo<T> | undefined> {
  // Read as bytes: inspect is not a hot path, and this way binary entries need one read only.
  const [raw, remainingTtlMs] = await Promise.all([
    e.store.readBinary(key, timeoutMs),
    e.store.pttl(key, timeoutMs),
  ]);
  const envelope = raw === null ? undefined : decodeEnvelope(raw);
  if (envelope === undefined) return undefined;
  let value: unknown;
  try {
    value = decodeValue(envelope, e.options.serializer);
  } catch {
    return undefined;
  }
  const state = (await tagsCurrent(e, envelope, timeoutMs)) ? stateOf(envelope, Date.now()) : 'invalidated';
  return {
    value: value as T,
    metadata: envelope.metadata,
    createdAt: new Date(envelope.createdMs),
    freshUntil: new Date(envelope.createdMs + envelope.freshMs),
    remainingTtlMs,
    state,
    tags: (envelope.tags ?? []).map(([t]) => t),
    bytes: envelope.bytes,
  };
}
