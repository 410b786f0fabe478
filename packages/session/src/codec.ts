import {
  checkKeyPart,
  InvalidArgumentError,
  MAX_KEY_PART_LENGTH,
  type Serializer,
} from '@redis-patterns/connection';
import { serializeText } from '@redis-patterns/connection/internal';

/*
 * How a session is stored. The Lua scripts (src/lua/<name>.lua, shared functions in src/lua/lib/,
 * `scripts.<name>` in commands.ts) take and return what is written at the top of each file.
 *
 * Layout (prefix `session:` by default):
 *   session:{<handle>}        HASH, one per session; <handle> = base64url(SHA-256(id)), never the id
 *     a  absolute expiry (ms, server clock)   r  last refresh (ms)      c  created at (ms)
 *     v  version, +1 per data write           u  user id (optional)
 *     i  its own idle timeout (ms; optional): a framework cookie's maxAge, see lib/window.lua
 *     d  the data: a JSON object mapping each top-level property to its serialized value, so a
 *        patch merges properties inside Redis (cjson) whatever the serializer
 *   a regenerated session's old key becomes a tombstone for a minute: HASH { m = new handle }
 *   session:{user:<userId>}   ZSET of the user's handles, score = the session's absolute expiry
 *
 * The key's TTL is always min(idleTtlMs, a - now) from the last refresh (with `i`: min(i + its
 * skip window, a - now)), so Redis frees a session at its idle or absolute end, whichever is first. A session key and its user's index are in
 * different Cluster slots; see commands.ts for the order of writes that keeps the index complete.
 * One data field rather than a field per property: a read is one HMGET of a few fields, not an
 * HGETALL of every property.
 */

/** Serialized data: property name → serialized value (stored together as one JSON map). */
export type Fields = Map<string, string>;

/** What a write changes: fields to set and fields to delete. */
export interface FieldChange {
  set: Fields;
  del: string[];
}

/** The stored meta fields of a session hash (see the layout above). */
export interface Meta {
  createdAt: number;
  absoluteExpiresAt: number;
  refreshedAt: number;
  version: string;
  userId: string | undefined;
  /** The session's own idle timeout (field `i`), when a framework cookie set one. */
  ownIdleMs?: number | undefined;
}

/** Throws unless `data` is a plain object: sessions are stored one top-level property per hash field. */
export function checkData(argument: string, data: unknown): asserts data is Record<string, unknown> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InvalidArgumentError(
      argument,
      `expected an object of session properties, got ${describe(data)}.`,
    );
  }
}

/** A UTF-16 surrogate without its pair: JSON.stringify writes it as `\udXXX`, which Redis's cjson refuses to read. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Serializes one property; undefined means "absent", anything the serializer cannot represent throws. */
export function encodeValue(serializer: Serializer, name: string, value: unknown): string | undefined {
  if (LONE_SURROGATE.test(name)) {
    throw new InvalidArgumentError(
      'data',
      'a property name holds a lone UTF-16 surrogate; Redis cannot store it.',
    );
  }
  if (value === undefined) return undefined;
  if (typeof value === 'function' || typeof value === 'symbol') {
    throw new InvalidArgumentError(`data.${name}`, `a ${typeof value} cannot be stored in a session.`);
  }
  // A serializer that throws or returns bytes fails here, naming the property.
  const text = serializeText(serializer, `data.${name}`, value);
  if (LONE_SURROGATE.test(text)) {
    throw new InvalidArgumentError(
      `data.${name}`,
      'the serializer returned a lone UTF-16 surrogate; Redis cannot store it.',
    );
  }
  return text;
}

/** Every own enumerable property of `data` as hash fields. */
export function encodeData(serializer: Serializer, data: Record<string, unknown>): Fields {
  const fields: Fields = new Map();
  for (const name of Object.keys(data)) {
    const text = encodeValue(serializer, name, data[name]);
    if (text !== undefined) fields.set(name, text);
  }
  return fields;
}

/** The stored form of the data: one JSON object of serialized values. */
export function blobOf(fields: Fields): string {
  return JSON.stringify(Object.fromEntries(fields));
}

/** The serialized values of a stored data field. */
export function fieldsOf(blob: string): Fields {
  return new Map(Object.entries(JSON.parse(blob) as Record<string, string>));
}

/** Bytes the stored data takes, as the update script counts them. */
export function sizeOf(fields: Fields): number {
  return Buffer.byteLength(blobOf(fields));
}

/** Throws before anything is written when serialized data exceeds the limit. */
export function checkSize(size: number, maxSizeBytes: number): void {
  if (size > maxSizeBytes) {
    throw new InvalidArgumentError(
      'data',
      `serializes to ${size} bytes; the limit is maxSizeBytes = ${maxSizeBytes}. Keep large data elsewhere and store its id.`,
    );
  }
}

/** The change that turns `before` into `after`: only fields whose serialized value differs. */
export function diff(before: Fields, after: Fields): FieldChange {
  const set: Fields = new Map();
  for (const [name, value] of after) if (before.get(name) !== value) set.set(name, value);
  const del = [...before.keys()].filter((name) => !after.has(name));
  return { set, del };
}

/** A patch (`undefined` deletes a property) as a field change. */
export function encodePatch(serializer: Serializer, patch: Record<string, unknown>): FieldChange {
  const set: Fields = new Map();
  const del: string[] = [];
  for (const name of Object.keys(patch)) {
    const text = encodeValue(serializer, name, patch[name]);
    if (text === undefined) del.push(name);
    else set.set(name, text);
  }
  return { set, del };
}

/** A session hash from HGETALL (flat name/value list) as meta and data, or undefined if it is not a session. */
export function splitHash(flat: string[]): { meta: Meta; fields: Fields } | undefined {
  const hash = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) hash.set(flat[i] as string, flat[i + 1] as string);
  const a = hash.get('a');
  const r = hash.get('r');
  const d = hash.get('d');
  if (a === undefined || r === undefined || d === undefined) return undefined;
  return {
    meta: {
      createdAt: Number(hash.get('c') ?? r),
      absoluteExpiresAt: Number(a),
      refreshedAt: Number(r),
      version: hash.get('v') ?? '0',
      userId: hash.get('u'),
      ownIdleMs: hash.has('i') ? Number(hash.get('i')) : undefined,
    },
    fields: fieldsOf(d),
  };
}

/** HGETALL through node-redis arrives as a flat array, an object or a Map depending on the protocol. */
export function flattenHash(reply: unknown): string[] {
  if (Array.isArray(reply)) return reply.map(String);
  const entries = reply instanceof Map ? [...reply] : Object.entries(reply ?? {});
  return entries.flatMap(([name, value]) => [String(name), String(value)]);
}

/** Parses data fields back into an object (a fresh object: callers may mutate it). */
export function decodeFields(serializer: Serializer, fields: Fields): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [name, text] of fields) setProperty(data, name, serializer.deserialize(text));
  return data;
}

/** Parses a stored data field straight into an object (the read path: no intermediate Map). */
export function decodeBlob(serializer: Serializer, blob: string): Record<string, unknown> {
  const raw = JSON.parse(blob) as Record<string, string>;
  const data: Record<string, unknown> = {};
  for (const name of Object.keys(raw)) setProperty(data, name, serializer.deserialize(raw[name] as string));
  return data;
}

function setProperty(data: Record<string, unknown>, name: string, value: unknown): void {
  // A stored property named "__proto__" must stay plain data, not replace the prototype.
  if (name === '__proto__') {
    Object.defineProperty(data, name, { value, enumerable: true, writable: true, configurable: true });
  } else data[name] = value;
}

/** Throws {@link InvalidArgumentError} for a user id that cannot name an index key. */
export function checkUserId(argument: string, userId: unknown): asserts userId is string {
  checkKeyPart(argument, userId);
  // The per-user index key is a key part of its own, `user:<id>`: checked here, before any write
  // (a regenerate checked it only after tombstoning the old session, which was then lost).
  if (userId.length > MAX_KEY_PART_LENGTH - USER_INDEX_PREFIX.length) {
    throw new InvalidArgumentError(
      argument,
      `is ${userId.length} characters; at most ${MAX_KEY_PART_LENGTH - USER_INDEX_PREFIX.length} are allowed.`,
    );
  }
}

/** What the per-user index key puts before the user id (see commands.ts). */
export const USER_INDEX_PREFIX = 'user:';

function describe(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : typeof value;
}

/**
 * What the read scripts return: the server time, then per session refreshed, a, r, c, u, d, i, v
 * (or null and fillers for a session that is gone). The single read's reply is one such session.
 */
export type ReadReply = Array<number | string | null | Error>;

/** The slots a session takes in a read reply, after the server time. */
export const READ_SLOTS = 8;

/** The session at `at` of a read reply, still serialized; null when it is gone. */
export function loadedAt(reply: Readonly<ReadReply>, at: number): Loaded | null {
  const refreshed = reply[at];
  if (refreshed === null) return null;
  const now = reply[0] as number;
  const u = reply[at + 4] as string;
  const i = reply[at + 6] as string;
  return {
    now,
    refreshed: refreshed === 1,
    meta: {
      createdAt: Number(reply[at + 3]),
      absoluteExpiresAt: Number(reply[at + 1]),
      refreshedAt: refreshed === 1 ? now : Number(reply[at + 2]),
      version: String(reply[at + 7]),
      userId: u === '' ? undefined : u,
      ownIdleMs: i === '' ? undefined : Number(i),
    },
    blob: reply[at + 5] as string,
  };
}

/** A session as read from Redis, still serialized. */
export interface Loaded {
  /** Time of the read: the server's for a script read, the app's for a plain HMGET read. */
  now: number;
  /** True when this read wrote a refresh (false: skipped within touchAfterMs). */
  refreshed: boolean;
  meta: Meta;
  /** The stored data field (see the layout above); decode with decodeBlob or fieldsOf. */
  blob: string;
}

/**
 * When Redis drops the session unless it is read again: its last refresh plus its idle window
 * (its own, with the skip margin of src/lua/lib/window.lua, or the store's), capped by its
 * absolute end.
 */
export function expiryOf(meta: Meta, idleTtlMs: number, touchAfterMs: number): number {
  const own = meta.ownIdleMs;
  const window = own === undefined ? idleTtlMs : own + refreshSkip(own, touchAfterMs);
  return Math.min(meta.refreshedAt + window, meta.absoluteExpiresAt);
}

/**
 * How long after a refresh the next one is skipped (src/lua/lib/window.lua): `touchAfterMs`, or
 * for a session with an idle timeout of its own (a cookie's maxAge) at most a tenth of it.
 */
export function refreshSkip(ownIdleMs: number | undefined, touchAfterMs: number): number {
  return ownIdleMs === undefined ? touchAfterMs : Math.min(touchAfterMs, Math.floor(ownIdleMs / 10));
}
