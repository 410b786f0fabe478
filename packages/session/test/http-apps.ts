import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import type { Topology } from '@redis-patterns/testing';
import { RedisStore } from 'connect-redis';
import express, { type NextFunction, type Request, type Response } from 'express';
import session, { type Store } from 'express-session';
import Fastify from 'fastify';
import { createClient, createCluster } from 'redis';
import { afterAll, beforeAll } from 'vitest';
import { listen } from './express-app.ts';
import { sleep } from './helpers.ts';

declare module 'fastify' {
  interface Session {
    userId?: string;
    lastSeen?: number;
  }
}

/** A login app as a test sees it: where it listens, and how to stop it. */
export interface RunningApp {
  base: string;
  close(): Promise<void>;
}

/** What the login apps below may be told. */
export interface LoginAppOptions {
  /** The session cookie's maxAge (ms); absent: a browser-session cookie. */
  maxAgeMs?: number;
  /** express-session's `rolling` (@fastify/session rolls by default). @default true */
  rolling?: boolean;
  /** The framework's session id generator; absent: the framework's own (32 characters). */
  genid?: () => string;
}

/** The structural store type @fastify/session takes (ours, or connect-redis's RedisStore). */
export type FastifyStore = NonNullable<Parameters<typeof fastifySession>[1]['store']>;

const SECRET = 'a test secret that is at least 32 characters long';

/*
 * Both apps have the same routes: GET /me answers { userId } (null when logged out); POST
 * /login/:user regenerates the id, binds the user and, with ?maxAge=<ms>, gives the cookie that
 * maxAge (a "remember me" choice); POST /logout destroys the session; POST /slow/:ms waits that
 * long, then changes the session (a request still running when another one logs out).
 */

/** An Express 5 + express-session login app on 127.0.0.1, port 0. */
export async function startExpressApp(store: Store, options: LoginAppOptions = {}): Promise<RunningApp> {
  const app = express();
  app.use(
    session({
      store,
      ...(options.genid === undefined ? {} : { genid: options.genid }),
      name: 'sid',
      secret: SECRET,
      resave: false,
      saveUninitialized: false,
      rolling: options.rolling ?? true,
      cookie: {
        httpOnly: true,
        secure: false,
        sameSite: 'lax',
        ...(options.maxAgeMs === undefined ? {} : { maxAge: options.maxAgeMs }),
      },
    }),
  );
  app.get('/me', (req, res) => {
    res.json({ userId: req.session.userId ?? null });
  });
  app.post('/login/:user', (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.userId = String(req.params.user);
      const maxAge = Number(req.query.maxAge);
      if (maxAge > 0) req.session.cookie.maxAge = maxAge;
      res.json({ userId: req.session.userId });
    });
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ ok: true })));
  });
  app.post('/slow/:ms', async (req, res) => {
    await sleep(Number(req.params.ms));
    req.session.lastSeen = Date.now();
    res.json({ ok: true });
  });
  app.use((err: Error & { code?: string }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ code: err.code ?? 'unknown', message: err.message });
  });
  return listen(app);
}

/** A Fastify + @fastify/session login app on 127.0.0.1, port 0 (rolling, the plugin's default). */
export async function startFastifyApp(
  store: FastifyStore,
  options: LoginAppOptions = {},
): Promise<RunningApp> {
  const app = Fastify();
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    store,
    ...(options.genid === undefined ? {} : { idGenerator: options.genid }),
    secret: SECRET,
    cookieName: 'sid',
    saveUninitialized: false,
    cookie: {
      secure: false,
      httpOnly: true,
      sameSite: 'lax',
      ...(options.maxAgeMs === undefined ? {} : { maxAge: options.maxAgeMs }),
    },
  });
  app.get('/me', async (request) => ({ userId: request.session.userId ?? null }));
  app.post<{ Params: { user: string }; Querystring: { maxAge?: string } }>(
    '/login/:user',
    async (request) => {
      await request.session.regenerate();
      request.session.userId = request.params.user;
      const maxAge = Number(request.query.maxAge);
      if (maxAge > 0) request.session.options({ maxAge });
      return { userId: request.params.user };
    },
  );
  app.post('/logout', async (request) => {
    await request.session.destroy();
    return { ok: true };
  });
  app.post<{ Params: { ms: string } }>('/slow/:ms', async (request) => {
    await sleep(Number(request.params.ms));
    request.session.set('lastSeen', Date.now());
    return { ok: true };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { base: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** A node-redis client for connect-redis 9 on `topology`: a cluster client on Cluster, which it supports. */
export async function nodeRedisClient(topology: Topology) {
  const client =
    topology.name === 'cluster'
      ? createCluster({
          rootNodes: topology.url
            .slice('redis://'.length)
            .replace('?cluster=true', '')
            .split(',')
            .map((host) => ({ url: `redis://${host}` })),
        })
      : createClient({ url: topology.url });
  client.on('error', () => {}); // reported by the commands that fail
  await client.connect();
  return client;
}

/** The node-redis client connect-redis is given (a cluster client on Cluster). */
export type NodeRedisClient = Awaited<ReturnType<typeof nodeRedisClient>>;

/**
 * Opens our connection and connect-redis's node-redis client on `topology` before a suite's tests
 * (handing both to `use`) and closes them after.
 */
export function withClients(
  topology: Topology,
  use: (redis: RedisConnection, client: NodeRedisClient) => void,
): void {
  let opened: { redis: RedisConnection; client: NodeRedisClient } | undefined;
  beforeAll(async () => {
    opened = { redis: await connect({ url: topology.url }), client: await nodeRedisClient(topology) };
    use(opened.redis, opened.client);
  });
  afterAll(async () => {
    await opened?.client.close();
    await opened?.redis.close();
  });
}

/** connect-redis 9 under `prefix`, with its defaults otherwise (one day for a cookie without expiry). */
export function connectRedisStore(client: NodeRedisClient, prefix: string) {
  return new RedisStore({ client, prefix });
}
