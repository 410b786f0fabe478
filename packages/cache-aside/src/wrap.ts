import { InvalidArgumentError } from '@redis-patterns/connection';
import type { EntryOptions } from './options.js';
import type { Cache } from './types.js';

/** Options of {@link Cache.wrap}: entry options plus how a call maps to a key. */
export interface WrapOptions<A extends unknown[]> extends EntryOptions {
  /** The cache key of one call, from its arguments (called with the same `this` as the function). */
  key: (...args: A) => string;
  /** Tags of one call, added to `tags`, e.g. `(id) => [\`user:${id}\`]`. @default none */
  tagsFor?: (...args: A) => readonly string[];
}

/** Options of the {@link cached} decorator: {@link WrapOptions} and the cache to use. */
export interface CachedOptions<A extends unknown[]> extends WrapOptions<A> {
  /** The cache the decorated method reads through. */
  cache: Pick<Cache, 'getOrLoad'>;
}

/** A method or function whose result is cached. */
export type CachedMethod<This, A extends unknown[], R> = (this: This, ...args: A) => R | Promise<R>;

/** Builds the cached function; shared by `cache.wrap` and the decorator. */
export function wrapFunction<This, A extends unknown[], R>(
  cache: Pick<Cache, 'getOrLoad'>,
  fn: CachedMethod<This, A, R>,
  options: WrapOptions<A>,
): (this: This, ...args: A) => Promise<Awaited<R>> {
  if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'expected a function to cache.');
  if (typeof options?.key !== 'function') {
    throw new InvalidArgumentError('key', 'expected a function from the call arguments to a cache key.');
  }
  const { key, tagsFor, ...entryOptions } = options;
  return function cachedCall(this: This, ...args: A): Promise<Awaited<R>> {
    const extraTags = tagsFor?.apply(this, args);
    const callOptions =
      extraTags === undefined
        ? entryOptions
        : { ...entryOptions, tags: [...(entryOptions.tags ?? []), ...extraTags] };
    return cache.getOrLoad(key.apply(this, args), () => fn.apply(this, args), callOptions) as Promise<
      Awaited<R>
    >;
  };
}

/**
 * A standard (TC39, TypeScript 5+) method decorator that reads the method's result through the cache,
 * built on `wrap`. Do not enable `experimentalDecorators`; NestJS users (legacy decorators) call
 * `cache.wrap(fn, options)` in the constructor instead (see the README).
 *
 * @example
 * ```ts
 * class Users {
 *   @cached({ cache, key: (id: string) => `user:${id}`, ttlMs: 30_000 })
 *   async find(id: string) { return db.users.find(id); }
 * }
 * ```
 */
export function cached<This, A extends unknown[], R>(options: CachedOptions<A>) {
  const { cache, ...wrapOptions } = options ?? ({} as CachedOptions<A>);
  if (typeof cache?.getOrLoad !== 'function') {
    throw new InvalidArgumentError('cache', 'expected a cache from createCache().');
  }
  return (
    method: CachedMethod<This, A, R>,
    context: ClassMethodDecoratorContext<This, CachedMethod<This, A, R>>,
  ): ((this: This, ...args: A) => Promise<Awaited<R>>) => {
    if (context.kind !== 'method') {
      throw new InvalidArgumentError('cached', `decorates methods only, not a ${String(context.kind)}.`);
    }
    return wrapFunction(cache, method, wrapOptions);
  };
}
