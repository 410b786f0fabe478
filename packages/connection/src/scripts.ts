import { createHash } from 'node:crypto';
import type { RedisArgument } from 'redis';
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

/**
 * Runs scripts by EVALSHA, remembering which scripts each server was sent in full. A script's first
 * call on a server goes as EVAL, not as EVALSHA answered by NOSCRIPT and then resent: a resend
 * would land after commands issued after the call, and the first check after a deploy could
 * overtake a reset issued before it. NOSCRIPT after a SCRIPT FLUSH, a restart or a failover still
 * resends the body once (the `send` of a call whose caller gave up refuses to, see CommandDeadline).
 */
export class ScriptCache {
  readonly #sent = new WeakMap<object, Set<string>>();
  readonly #nodeOf: (key: string | undefined) => object;

  /** @param nodeOf the object that stands for the server a call on `key` goes to */
  constructor(nodeOf: (key: string | undefined) => object) {
    this.#nodeOf = nodeOf;
  }

  async run(
    script: Script,
    keys: readonly string[],
    args: readonly RedisArgument[],
    send: (args: RedisArgument[]) => Promise<unknown>,
  ): Promise<unknown> {
    const node = this.#nodeOf(keys[0]);
    let sent = this.#sent.get(node);
    if (sent === undefined) {
      sent = new Set();
      this.#sent.set(node, sent);
    }
    const tail = [String(keys.length), ...keys, ...args];
    if (!sent.has(script.sha1)) {
      const reply = await send(['EVAL', script.source, ...tail]);
      sent.add(script.sha1);
      return reply;
    }
    try {
      return await send(['EVALSHA', script.sha1, ...tail]);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT'))
        return send(['EVAL', script.source, ...tail]);
      throw err;
    }
  }
}
