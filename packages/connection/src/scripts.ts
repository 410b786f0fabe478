import { createHash } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';

/** A Lua script defined once and run by EVALSHA through {@link RedisConnection.runScript}. */
export interface Script {
  /** A name for error messages. */
  readonly name: string;
  /** The Lua source. */
  readonly source: string;
  /** SHA-1 of the source, as EVALSHA wants it. */
  readonly sha1: string;
}

/**
 * Defines a Lua script. Pass every key through KEYS[] (never build Lua from user input): on Cluster
 * the call is routed by its first key, and all its keys must share that key's hash tag.
 *
 * @example
 * ```ts
 * const incrIfExists = defineScript('incrIfExists', `
 *   if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCR', KEYS[1]) end
 *   return nil`);
 * await redis.runScript(incrIfExists, ['counter'], []);
 * ```
 */
export function defineScript(name: string, source: string): Script {
  if (typeof source !== 'string' || source.trim() === '') {
    throw new InvalidArgumentError('source', `script "${name}" has no Lua source.`);
  }
  return Object.freeze({ name, source, sha1: createHash('sha1').update(source).digest('hex') });
}
