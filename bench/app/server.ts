// One app under test, in a process of its own so its CPU time is its own. Started by app/run.ts:
//   node --import tsx app/server.ts <ours|peers|none> <redis url>
// It answers IPC messages: 'usage' (its process.cpuUsage() in µs and the requests it has received)
// and 'close'.
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import {
  type AppMessage,
  makeStack,
  SESSION_MAX_AGE_MS,
  STACKS,
  type Stack,
  type StackName,
} from './stacks.ts';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    cart?: string[];
  }
}

/** Stand-in for a database row: about 1 KB of JSON. */
async function loadProduct(id: string) {
  return {
    id,
    name: `Product ${id}`,
    priceCents: 4_900,
    tags: ['desk', 'lamp', 'office'],
    description: 'd'.repeat(900),
  };
}

/** Requests received so far: the divisor of the per-request costs (see app/run.ts). */
let received = 0;

function buildApp(stack: Stack): express.Express {
  const app = express();
  app.set('etag', false);
  app.use((_req, _res, next) => {
    received++;
    next();
  });
  app.use(
    session({
      ...(stack.sessionStore ? { store: stack.sessionStore } : {}),
      ...(stack.genid ? { genid: stack.genid } : {}),
      name: 'sid',
      secret: 'a bench secret that is long enough to sign cookies',
      resave: false,
      saveUninitialized: false,
      rolling: false,
      cookie: { httpOnly: true, sameSite: 'lax', maxAge: SESSION_MAX_AGE_MS },
    }),
  );
  const loggedIn = (req: Request, res: Response, next: NextFunction) => {
    if (req.session.userId === undefined) res.status(401).json({ error: 'log in first' });
    else next();
  };
  app.post('/login', (req, res, next) => {
    const userId = String(req.query.user ?? 'anonymous');
    // A new id on login, as an app defending against session fixation does.
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.userId = userId;
      res.json({ userId });
    });
  });
  app.post('/cart/:id', loggedIn, (req, res) => {
    // The last few items: the session keeps its size, so every save writes about as much.
    const cart = [...(req.session.cart ?? []), String(req.params.id)].slice(-5);
    req.session.cart = cart;
    res.json({ cart });
  });
  app.get('/me', loggedIn, (req, res) => {
    res.json({ userId: req.session.userId });
  });
  app.get('/product/:id', loggedIn, stack.limit, async (req, res) => {
    const id = String(req.params.id);
    const product = await stack.readThrough(`product:${id}`, () => loadProduct(id));
    res.json({ product, userId: req.session.userId });
  });
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    console.error('app error:', err);
    res.status(500).json({ error: err.message });
  });
  return app;
}

async function main(): Promise<void> {
  const [name, url] = process.argv.slice(2);
  if (!STACKS.includes(name as StackName) || url === undefined) {
    throw new Error(`usage: server.ts <${STACKS.join('|')}> <redis url>`);
  }
  const send = process.send?.bind(process);
  if (!send) throw new Error('server.ts runs as a child of app/run.ts (it needs an IPC channel).');
  const stack = await makeStack(name as StackName, url);
  const server = buildApp(stack).listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  // The bench went away without saying close: nothing left to serve.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: AppMessage) => {
    if (message.type === 'usage') {
      const { user, system } = process.cpuUsage();
      send({ type: 'usage', micros: user + system, requests: received } satisfies AppMessage);
    } else if (message.type === 'close') {
      server.closeAllConnections();
      server.close(() => {
        stack.close().then(
          () => process.exit(0),
          (error: unknown) => {
            console.error(error);
            process.exit(1);
          },
        );
      });
    }
  });
  send({ type: 'ready', port: (server.address() as AddressInfo).port } satisfies AppMessage);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
