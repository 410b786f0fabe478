import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import type { ExpressSessionStore } from '../src/express.ts';
import type { SessionStore } from '../src/index.ts';
import { sleep } from './helpers.ts';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    cart?: string[];
    [field: string]: unknown;
  }
}

/** A small shop: an anonymous cart, login (rotating the id), logout, "log out everywhere". */
export function shopApp(
  sessions: SessionStore,
  store: ExpressSessionStore,
  options: { genid?: boolean } = {},
): express.Express {
  const app = express();
  app.use(
    session({
      store,
      ...(options.genid === false ? {} : { genid: store.genid }),
      name: 'sid',
      secret: 'a test secret that is long enough',
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', maxAge: 3_600_000 },
    }),
  );
  app.get('/me', (req, res) => {
    res.json({ userId: req.session.userId ?? null, cart: req.session.cart ?? [] });
  });
  app.post('/cart/:item', (req, res) => {
    req.session.cart = [...(req.session.cart ?? []), String(req.params.item)];
    res.json({ cart: req.session.cart });
  });
  app.post('/login/:user', (req, res, next) => {
    const cart = req.session.cart;
    // A new id on login: an id planted before login (fixation) is worth nothing afterwards.
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.userId = String(req.params.user);
      if (cart) req.session.cart = cart;
      res.json({ userId: req.session.userId });
    });
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ ok: true })));
  });
  app.post('/logout-everywhere', async (req, res, next) => {
    try {
      const ended = await sessions.destroyAllForUser(String(req.session.userId), { except: req.sessionID });
      res.json({ ended });
    } catch (err) {
      next(err);
    }
  });
  app.post('/slow/:field/:ms', async (req, res) => {
    await sleep(Number(req.params.ms));
    req.session[String(req.params.field)] = true;
    res.json({ ok: true });
  });
  app.use((err: Error & { code?: string }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ code: err.code ?? 'unknown', message: err.message });
  });
  return app;
}

/** Starts `app` on a free loopback port; returns its base URL and a closer. */
export async function listen(app: express.Express): Promise<{ base: string; close: () => Promise<void> }> {
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
