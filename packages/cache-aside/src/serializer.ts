import { InvalidArgumentError, type Serializer } from '@redis-patterns/connection';

/** A {@link Serializer} with the name the cache requires. */
export interface NamedSerializer extends Serializer {
  /** Stored with every entry, so entries written by another serializer read as misses. */
  readonly name: string;
}

// Markers are arrays whose first element is a string starting with NUL; a user array that happens to
// start that way is escaped with ESCAPED_ARRAY, so every JSON-representable value stays unambiguous.
const MARK = '\u0000';
const ESCAPED_ARRAY = `${MARK}a`;
const UNDEFINED = `${MARK}u`;
const NAN = `${MARK}n`;
const POS_INF = `${MARK}+`;
const NEG_INF = `${MARK}-`;
const NEG_ZERO = `${MARK}0`;
const BIGINT = `${MARK}b`;
const DATE = `${MARK}d`;
const MAP = `${MARK}m`;
const SET = `${MARK}s`;
const BYTES = `${MARK}y`;
const BUFFER = `${MARK}B`;

/**
 * JSON plus Date, BigInt, Map, Set, Uint8Array/Buffer, undefined (also inside objects and arrays),
 * NaN, ±Infinity and -0, restored exactly. Plain JSON data takes a fast path (native
 * `JSON.stringify`/`JSON.parse`); only values that need it are rewritten. Objects with `toJSON`
 * (other than Date) are stored as its result, class instances as their own enumerable properties,
 * like `JSON.stringify`. Functions, symbols, other typed arrays and cycles are refused with
 * `InvalidArgumentError`.
 *
 * @example
 * ```ts
 * import { losslessJson } from '@redis-patterns/cache-aside';
 *
 * const text = losslessJson.serialize({ at: new Date(0), ids: new Set([1n]) });
 * const back = losslessJson.deserialize(text as string); // { at: Date, ids: Set { 1n } }
 * ```
 */
export const losslessJson: NamedSerializer = {
  name: 'lj1',
  serialize(value) {
    return needsRewrite(value, new Set())
      ? `x${JSON.stringify(rewrite(value))}`
      : `j${JSON.stringify(value)}`;
  },
  deserialize(payload) {
    const text = typeof payload === 'string' ? payload : payload.toString('utf8');
    const flavour = text.charCodeAt(0);
    if (flavour !== 106 /* j */ && flavour !== 120 /* x */) throw new Error('unknown lossless JSON flavour');
    const parsed: unknown = JSON.parse(text.slice(1));
    return flavour === 106 ? parsed : restore(parsed);
  },
};

/** Walks the value once: refuses what cannot be stored and says whether plain JSON would lose anything. */
function needsRewrite(value: unknown, path: Set<object>): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return false;
    case 'number':
      return !Number.isFinite(value) || Object.is(value, -0);
    case 'bigint':
    case 'undefined':
      return true;
    case 'function':
    case 'symbol':
      throw new InvalidArgumentError('value', `a ${typeof value} cannot be cached; return plain data.`);
  }
  if (value === null) return false;
  const object = value as object;
  if (path.has(object))
    throw new InvalidArgumentError('value', 'is cyclic; a cyclic object cannot be cached.');
  if (object instanceof Date || object instanceof Map || object instanceof Set) {
    if (object instanceof Date) return true;
    path.add(object);
    for (const item of object instanceof Map ? [...object].flat() : object) needsRewrite(item, path);
    path.delete(object);
    return true;
  }
  if (ArrayBuffer.isView(object)) {
    if (object instanceof Uint8Array) return true;
    throw new InvalidArgumentError('value', `${object.constructor.name} is not supported; use a Uint8Array.`);
  }
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    return needsRewrite((object as { toJSON(): unknown }).toJSON(), path);
  }
  path.add(object);
  let rewrite = false;
  if (Array.isArray(object)) {
    const first = object[0];
    if (typeof first === 'string' && first.startsWith(MARK)) rewrite = true;
    for (let i = 0; i < object.length; i++) if (needsRewrite(object[i], path)) rewrite = true;
  } else {
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      if (needsRewrite((object as Record<string, unknown>)[key], path)) rewrite = true;
    }
  }
  path.delete(object);
  return rewrite;
}

/** The JSON tree with special values turned into markers (input already validated by needsRewrite). */
function rewrite(value: unknown): unknown {
  switch (typeof value) {
    case 'number':
      if (Number.isNaN(value)) return [NAN];
      if (value === Infinity) return [POS_INF];
      if (value === -Infinity) return [NEG_INF];
      return Object.is(value, -0) ? [NEG_ZERO] : value;
    case 'bigint':
      return [BIGINT, value.toString()];
    case 'undefined':
      return [UNDEFINED];
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (value instanceof Date) return [DATE, Number.isNaN(value.getTime()) ? null : value.getTime()];
  if (value instanceof Map) return [MAP, [...value].map(([k, v]) => [rewrite(k), rewrite(v)])];
  if (value instanceof Set) return [SET, [...value].map(rewrite)];
  if (value instanceof Uint8Array) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    return [Buffer.isBuffer(value) ? BUFFER : BYTES, bytes];
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return rewrite((value as { toJSON(): unknown }).toJSON());
  }
  if (Array.isArray(value)) {
    const items = value.map(rewrite);
    const first = value[0];
    return typeof first === 'string' && first.startsWith(MARK) ? [ESCAPED_ARRAY, ...items] : items;
  }
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (Object.hasOwn(value, key)) assign(out, key, rewrite((value as Record<string, unknown>)[key]));
  }
  return out;
}

function restore(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const tag = value[0];
    if (typeof tag !== 'string' || !tag.startsWith(MARK)) return value.map(restore);
    switch (tag) {
      case ESCAPED_ARRAY:
        return value.slice(1).map(restore);
      case UNDEFINED:
        return undefined;
      case NAN:
        return Number.NaN;
      case POS_INF:
        return Infinity;
      case NEG_INF:
        return -Infinity;
      case NEG_ZERO:
        return -0;
      case BIGINT:
        return BigInt(value[1] as string);
      case DATE:
        return new Date(value[1] === null ? Number.NaN : (value[1] as number));
      case MAP:
        return new Map((value[1] as unknown[][]).map(([k, v]) => [restore(k), restore(v)]));
      case SET:
        return new Set((value[1] as unknown[]).map(restore));
      case BUFFER:
        return Buffer.from(value[1] as string, 'base64');
      case BYTES:
        return new Uint8Array(Buffer.from(value[1] as string, 'base64'));
      default:
        throw new Error(`unknown marker ${JSON.stringify(tag)}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const key in value) assign(out, key, restore((value as Record<string, unknown>)[key]));
  return out;
}

/** `out[key] = value`, except that a `__proto__` key stays an own property instead of a prototype. */
function assign(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else out[key] = value;
}
