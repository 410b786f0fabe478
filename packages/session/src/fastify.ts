import { type AdapterOptions, FrameworkBridge } from './bridge.js';
import type { SessionData, SessionStore } from './types.js';

export type { AdapterOptions };

/** Options of {@link createFastifyStore}. */
export interface FastifyStoreOptions extends AdapterOptions {}

// As in the express adapter: the callback runs outside the promise chain.
function settle<T>(work: Promise<T>, callback: (err: unknown, value?: T) => void): void {
  work.then(
    (value) => process.nextTick(callback, null, value),
    (err: unknown) => process.nextTick(callback, err),
  );
}

/**
 * A `@fastify/session` store over a {@link SessionStore} (structurally typed: this file imports
 * nothing from Fastify). Pass `idGenerator: store.idGenerator` to the plugin. With the plugin's
 * default `rolling: true` it saves every response; this store turns a save that changes only the
 * cookie's expiry into nothing, except right after a refresh, so a request costs one round trip.
 */
export class FastifySessionStore {
  readonly #bridge: FrameworkBridge;

  /** The id generator to hand to @fastify/session (`idGenerator`). */
  readonly idGenerator = (): string => this.#bridge.generateId();

  constructor(sessions: SessionStore<object>, options?: FastifyStoreOptions) {
    this.#bridge = new FrameworkBridge(sessions, options);
  }

  /**
   * Reads the session and slides its idle TTL in the same round trip. (The callback takes `any`
   * so the class matches @fastify/session's `SessionStore` without importing its types.)
   */
  get(sessionId: string, callback: (err: unknown, session?: any) => void): void {
    settle<SessionData | null>(this.#bridge.load(sessionId), callback);
  }

  /** Writes what this request changed (a new session whole); never recreates a destroyed session. */
  set(sessionId: string, session: object, callback: (err?: unknown) => void): void {
    settle(this.#bridge.save(sessionId, session), callback);
  }

  /** Ends the session (logout). */
  destroy(sessionId: string, callback: (err?: unknown) => void): void {
    settle(this.#bridge.destroy(sessionId), callback);
  }
}

/**
 * A @fastify/session store backed by `sessions`.
 *
 * @example
 * ```ts
 * import fastifyCookie from '@fastify/cookie';
 * import fastifySession from '@fastify/session';
 * import { createFastifyStore } from '@redis-patterns/session/fastify';
 *
 * const store = createFastifyStore(sessions, { userIdOf: (s) => s.userId as string | undefined });
 * await app.register(fastifyCookie);
 * await app.register(fastifySession, { store, idGenerator: store.idGenerator, secret, saveUninitialized: false });
 * ```
 */
export function createFastifyStore(
  sessions: SessionStore<object>,
  options?: FastifyStoreOptions,
): FastifySessionStore {
  return new FastifySessionStore(sessions, options);
}
