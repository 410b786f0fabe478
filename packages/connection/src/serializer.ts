import { InvalidArgumentError } from './errors.js';

/**
 * How a pattern turns a value into what Redis stores, and back: one shape for the cache's entries,
 * the session store's properties and the queue's job data and results.
 *
 * The cache stores strings or bytes. The session store and the queue store text: a serializer
 * whose `serialize` returns bytes there fails the call with `InvalidArgumentError` before anything
 * is written.
 *
 * @example
 * ```ts
 * import superjson from 'superjson';
 * import type { Serializer } from '@redis-patterns/connection';
 *
 * const serializer: Serializer = {
 *   name: 'superjson',
 *   serialize: (value) => superjson.stringify(value),
 *   deserialize: (text) => superjson.parse(String(text)),
 * };
 * ```
 */
export interface Serializer {
  /**
   * A stable name. The cache stores it with every entry, so entries another serializer wrote read
   * as misses, and refuses a custom serializer without one; the other patterns do not store it.
   */
  readonly name?: string;
  /** Encodes a value; throw for a value it cannot represent (the call then writes nothing). */
  serialize(value: unknown): string | Uint8Array;
  /**
   * Decodes what `serialize` produced: a string when it produced a string, a Buffer when it produced
   * bytes. May throw on input it cannot read.
   */
  deserialize(payload: string | Buffer): unknown;
}

/** `JSON.stringify` / `JSON.parse`: loses `Date`, `Map`, `Set`, `BigInt` and `undefined` types. */
export const jsonSerializer: Serializer = {
  name: 'json',
  serialize: (value) => JSON.stringify(value),
  deserialize: (payload) => JSON.parse(String(payload)),
};

/**
 * The serializer option of a pattern: `undefined` means `fallback`; anything else must have
 * `serialize` and `deserialize` functions (and a string `name` where `nameRequired`).
 */
export function checkSerializer(
  argument: string,
  value: unknown,
  fallback: Serializer,
  nameRequired = false,
): Serializer {
  if (value === undefined) return fallback;
  const candidate = value as Partial<Serializer> | null;
  const expected = nameRequired
    ? 'expected { name, serialize(value), deserialize(payload) }.'
    : 'expected { serialize(value), deserialize(payload) }.';
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.serialize !== 'function' ||
    typeof candidate.deserialize !== 'function'
  )
    throw new InvalidArgumentError(argument, expected);
  if (candidate.name !== undefined && typeof candidate.name !== 'string')
    throw new InvalidArgumentError(`${argument}.name`, 'expected a string.');
  if (nameRequired && (typeof candidate.name !== 'string' || candidate.name === ''))
    throw new InvalidArgumentError(
      `${argument}.name`,
      'expected a stable, non-empty name: it is stored with every value.',
    );
  return candidate as Serializer;
}

/**
 * The text a text-storing pattern writes. A serializer that throws, or returns bytes or a
 * non-string, fails with `InvalidArgumentError` naming `argument`.
 */
export function serializeText(serializer: Serializer, argument: string, value: unknown): string {
  let payload: unknown;
  try {
    payload = serializer.serialize(value);
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(
      argument,
      `the serializer could not encode it (${err instanceof Error ? err.message : String(err)}).`,
    );
  }
  if (typeof payload !== 'string')
    throw new InvalidArgumentError(
      argument,
      `the serializer returned ${payload instanceof Uint8Array ? 'bytes' : typeof payload}; this pattern stores text, so it must return a string.`,
    );
  return payload;
}
