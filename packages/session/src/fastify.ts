import { answer, type StoreCallback } from './answer.js';
import { type AdapterOptions, FrameworkBridge } from './bridge.js';
import { tracedAdapter } from './otel.js';
import type { SessionData, SessionStore } from './types.js';

export type { AdapterOptions };

/** Options of {@link createFastifyStore}. */
export interface FastifyStoreOptions extends AdapterOptions {}

/**
 * A `@fastify/session` store over a {@link SessionStore} (structurally typed: this file imports
 * nothing from Fastify). Pass `idGenerator: store.idGenerator` to the plugin. With the plugin's
 * default `rolling: true` it saves every response; this store turns a save that changes only the
 * cookie's expiry into nothing while the last refresh keeps the key past the renewed cookie (into
 * a refresh otherwise), so a request costs one round trip.
 *
 * Every method takes a callback, as @fastify/session passes one, or, without one, returns a
 * promise that rejects with the typed error.
 *
 * @example
 * ```ts
 * const session = await store.get(request.session.sessionId); // the data, or null
 * await store.destroy(request.session.sessionId);
 * ```
 */
export class FastifySessionStore {
  readonly #bridge: FrameworkBridge;

  /** The id generator to hand to @fastify/session (`idGenerator`). */
  readonly idGenerator = (): string => this.#bridge.generateId();

  constructor(sessions: SessionStore<object>, options?: FastifyStoreOptions) {
    this.#bridge = new FrameworkBridge(sessions, options);
  }

  /** Reads the session and slides its idle TTL in the same round trip: the data, or null. */
  get(sessionId: string): Promise<SessionData | null>;
  /**
   * The callback form, which @fastify/session uses. (The callback takes `any` so the class matches
   * @fastify/session's `SessionStore` without importing its types.)
   */
  get(sessionId: string, callback: (err: unknown, session?: any) => void): void;
  get(
    sessionId: string,
    callback?: StoreCallback<SessionData | null>,
  ): Promise<SessionData | null> | undefined {
    return answer(
      tracedAdapter('fastify', 'load', () => this.#bridge.load(sessionId)),
      callback,
    );
  }

  /** Writes what this request changed (a new session whole); never recreates a destroyed session. */
  set(sessionId: string, session: object): Promise<void>;
  /** The callback form, which @fastify/session uses. */
  set(sessionId: string, session: object, callback: (err?: unknown) => void): void;
  set(sessionId: string, session: object, callback?: StoreCallback<void>): Promise<void> | undefined {
    return answer(
      tracedAdapter('fastify', 'save', () => this.#bridge.save(sessionId, session)),
      callback,
    );
  }

  /** Ends the session (logout). */
  destroy(sessionId: string): Promise<void>;
  /** The callback form, which @fastify/session uses. */
  destroy(sessionId: string, callback: (err?: unknown) => void): void;
  destroy(sessionId: string, callback?: StoreCallback<void>): Promise<void> | undefined {
    return answer(
      tracedAdapter('fastify', 'destroy', () => this.#bridge.destroy(sessionId)),
      callback,
    );
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
