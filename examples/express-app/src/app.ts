import { createCache } from '@redis-patterns/cache-aside';
import { createExpressRateLimit, createRateLimiter, slidingWindowLog } from '@redis-patterns/rate-limit';
import type { RedisConnection } from '@redis-patterns/session';
import { createSessionStore } from '@redis-patterns/session';
import { createExpressStore } from '@redis-patterns/session/express';
import express, { type Express } from 'express';
import session from 'express-session';

declare module 'express-session' {
  interface SessionData {
    userId: string;
    cart: string[];
  }
}

/** Stands in for your database: slow, and counts its queries so the cache's effect shows. */
export interface ProductDatabase {
  findProduct(id: string): Promise<{ id: string; name: string; priceCents: number } | null>;
}

export interface AppOptions {
  redis: RedisConnection;
  db: ProductDatabase;
  /** Keys of this app start with it: several apps (or test files) can share one Redis. */
  prefix?: string;
  /** Requests per client per minute. */
  requestsPerMinute?: number;
}

export function createApp({ redis, db, prefix = 'shop:', requestsPerMinute = 100 }: AppOptions): Express {
  const sessions = createSessionStore({ redis, prefix: `${prefix}session:`, idleTtlMs: 30 * 60_000 });
  const store = createExpressStore(sessions, { userIdOf: (s) => s.userId as string | undefined });
  const limiter = createRateLimiter({
    redis,
    prefix: `${prefix}rl:`,
    name: 'per-minute',
    algorithm: slidingWindowLog({ limit: requestsPerMinute, windowMs: 60_000 }),
  });
  const products = createCache({ redis, prefix: `${prefix}cache:`, ttlMs: 60_000, staleMs: 10_000 });

  const app = express();
  app.use(createExpressRateLimit({ limiter, skip: (req) => req.url === '/health' }));
  app.use(
    session({
      store,
      genid: store.genid,
      secret: process.env.SESSION_SECRET ?? 'dev-only-secret',
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', maxAge: 8 * 3_600_000 },
    }),
  );

  app.get('/health', (_req, res) => {
    res.send('ok');
  });

  // Cached read: concurrent misses share one query; Redis down means the database answers.
  app.get('/products/:id', async (req, res) => {
    const product = await products.getOrLoad(
      `product:${req.params.id}`,
      () => db.findProduct(req.params.id),
      {
        tags: ['products'],
      },
    );
    if (product === null) res.status(404).json({ error: 'no such product' });
    else res.json(product);
  });

  app.post('/cart', express.json(), (req, res) => {
    req.session.cart = [...(req.session.cart ?? []), String(req.body.productId)];
    res.json({ cart: req.session.cart });
  });

  // A new session id on login (fixation defence); the cart comes along.
  app.post('/login', express.json(), (req, res, next) => {
    const cart = req.session.cart ?? [];
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.userId = String(req.body.user);
      req.session.cart = cart;
      res.json({ user: req.session.userId, cart });
    });
  });

  app.post('/logout-everywhere', async (req, res) => {
    if (req.session.userId === undefined) {
      res.sendStatus(401);
      return;
    }
    res.json({ ended: await sessions.destroyAllForUser(req.session.userId, { except: req.sessionID }) });
  });

  // A price change: every cached product is a miss from now on, in every process.
  app.post('/admin/prices-changed', async (_req, res) => {
    await products.invalidateTag('products');
    res.sendStatus(204);
  });
  return app;
}
