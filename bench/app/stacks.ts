// The three ways the app is built: the same routes and session settings, only the libraries differ.
import KeyvRedis from '@keyv/redis';
import { createCache } from '@redis-patterns/cache-aside';
import { connect } from '@redis-patterns/connection';
import { createExpressRateLimit, createRateLimiter, fixedWindow } from '@redis-patterns/rate-limit';
import { createSessionStore } from '@redis-patterns/session';
import { createExpressStore } from '@redis-patterns/session/express';
import { createCache as createCacheManager } from 'cache-manager';
import { RedisStore as ConnectRedisStore } from 'connect-redis';
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Store } from 'express-session';
import { Keyv } from 'keyv';
import { RedisStore as RateLimitRedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';

export const STACKS = ['ours', 'peers', 'none'] as const;
export type StackName = (typeof STACKS)[number];

/** Idle lifetime of a session: the cookie's maxAge, which both Redis stores turn into the key's TTL. */
export const SESSION_MAX_AGE_MS = 30 * 60_000;
/** How long a product stays cached. */
export const CACHE_TTL_MS = 10 * 60_000;
/** Products the route serves; the cache holds them all after the warm-up. */
export const PRODUCTS = 100;

/** Messages between app/run.ts and an app process (app/server.ts). */
export type AppMessage =
  | { type: 'ready'; port: number }
  | { type: 'usage'; micros: number; requests: number }
  | { type: 'usage' }
  | { type: 'close' };

/** A fixed window that never refuses during a run, so every request does the full limiter work. */
const LIMIT = { limit: 1_000_000_000, windowMs: 60_000 };

/** What the app needs from a stack; everything else (routes, express-session options) is shared. */
export interface Stack {
  /** The express-session store; undefined means express-session's own MemoryStore. */
  sessionStore: Store | undefined;
  /** Session id generator to hand to express-session, when the store wants its own. */
  genid?: () => string;
  /** Rate limiting middleware for the product route (limited by client IP, as both default to). */
  limit: RequestHandler;
  /** The cache-aside read: the cached value, or load() stored and returned. */
  readThrough(key: string, load: () => Promise<unknown>): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Ours: one connection shared by the session store (express adapter, with the per-user index a
 * login maintains), a fixed-window limiter (the algorithm rate-limit-redis implements) and the cache.
 */
async function ours(url: string): Promise<Stack> {
  const redis = await connect({ url });
  const sessions = createSessionStore({ redis, prefix: 'app:sess:', idleTtlMs: SESSION_MAX_AGE_MS });
  const store = createExpressStore(sessions, {
    userIdOf: (session) => (session as { userId?: string }).userId,
  });
  const limiter = createRateLimiter({
    redis,
    prefix: 'app:rl:',
    name: 'product',
    algorithm: fixedWindow(LIMIT),
  });
  const cache = createCache({ redis, prefix: 'app:cache:', ttlMs: CACHE_TTL_MS });
  return {
    sessionStore: store,
    genid: store.genid,
    limit: createExpressRateLimit({ limiter }) as RequestHandler,
    readThrough: (key, load) => cache.getOrLoad(key, load),
    async close() {
      await limiter.close();
      await cache.close();
      await redis.close();
    },
  };
}

/**
 * The peers, configured as their READMEs show: connect-redis and rate-limit-redis on one node-redis
 * client, cache-manager over Keyv with @keyv/redis (which opens its own client from the URL).
 */
async function peers(url: string): Promise<Stack> {
  const client = createClient({ url });
  client.on('error', (error) => console.error('peers client:', error));
  await client.connect();
  const keyvRedis = new KeyvRedis(url);
  const cache = createCacheManager({
    stores: [new Keyv({ store: keyvRedis, namespace: 'app-cache' })],
    ttl: CACHE_TTL_MS,
  });
  return {
    sessionStore: new ConnectRedisStore({ client, prefix: 'app:sess:' }),
    limit: rateLimit({
      ...LIMIT,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      store: new RateLimitRedisStore({
        prefix: 'app:rl:',
        sendCommand: (...args: string[]) => client.sendCommand(args),
      }),
    }),
    readThrough: (key, load) => cache.wrap(key, load),
    async close() {
      await cache.disconnect();
      await client.close();
    },
  };
}

/** No Redis: express-session's MemoryStore, express-rate-limit's memory store, cache-manager's memory Keyv. */
async function none(): Promise<Stack> {
  const cache = createCacheManager({ ttl: CACHE_TTL_MS });
  return {
    sessionStore: undefined,
    limit: rateLimit({ ...LIMIT, standardHeaders: 'draft-8', legacyHeaders: false }),
    readThrough: (key, load) => cache.wrap(key, load),
    async close() {
      await cache.disconnect();
    },
  };
}

/** Builds one stack against the Redis at `url` (unused by `none`). */
export function makeStack(name: StackName, url: string): Promise<Stack> {
  if (name === 'ours') return ours(url);
  if (name === 'peers') return peers(url);
  return none();
}
