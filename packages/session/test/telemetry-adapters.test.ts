import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { type Span, trace } from '@opentelemetry/api';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { type OtelHarness, registerOtel } from '@redis-patterns/testing/otel';
import express from 'express';
import session from 'express-session';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpressStore } from '../src/express.ts';
import { createFastifyStore } from '../src/fastify.ts';
import { createSessionStore } from '../src/index.ts';

declare module 'fastify' {
  interface Session {
    visits?: number;
  }
}

declare module 'express-session' {
  interface SessionData {
    visits?: number;
  }
}

const SECRET = 'a test secret that is at least 32 characters long';

/** A running app: its base URL and how to stop it. */
interface App {
  base: string;
  close(): Promise<void>;
}

/** Runs one request inside a `request <n>` span, as an HTTP server instrumentation would. */
const tracer = () => trace.getTracer('test-http');

/** Express + express-session: the first middleware starts each request's span. */
async function expressApp(store: ReturnType<typeof createExpressStore>): Promise<App> {
  const app = express();
  app.use((req, res, next) => {
    tracer().startActiveSpan(`request ${String(req.headers['x-request'])}`, (span) => {
      res.on('finish', () => span.end());
      next();
    });
  });
  app.use(session({ store, genid: store.genid, secret: SECRET, resave: false, saveUninitialized: false }));
  app.get('/visit', (req, res) => {
    req.session.visits = (req.session.visits ?? 0) + 1;
    res.json({ visits: req.session.visits });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Fastify + @fastify/session: an onRequest hook, registered first, starts each request's span. */
async function fastifyApp(store: ReturnType<typeof createFastifyStore>): Promise<App> {
  const app = Fastify();
  const spans = new WeakMap<object, Span>();
  app.addHook('onRequest', (request, _reply, done) => {
    tracer().startActiveSpan(`request ${String(request.headers['x-request'])}`, (span) => {
      spans.set(request, span);
      done();
    });
  });
  app.addHook('onResponse', (request, _reply, done) => {
    spans.get(request)?.end();
    done();
  });
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    store,
    idGenerator: store.idGenerator,
    secret: SECRET,
    cookieName: 'sid',
    saveUninitialized: false,
    cookie: { secure: false },
  });
  app.get('/visit', async (request) => {
    request.session.visits = (request.session.visits ?? 0) + 1;
    return { visits: request.session.visits };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** Three visits of one client, each tagged with its number; returns the session id from the cookie. */
async function visitThrice(base: string): Promise<string> {
  let cookie = '';
  for (const n of [1, 2, 3]) {
    const res = await fetch(`${base}/visit`, {
      headers: { 'x-request': String(n), ...(cookie === '' ? {} : { cookie }) },
      signal: AbortSignal.timeout(5_000),
    });
    expect(await res.json()).toEqual({ visits: n });
    cookie = res.headers.get('set-cookie')?.split(';')[0] ?? cookie;
  }
  // Both frameworks sign the cookie as `s:<id>.<signature>` (URL-encoded).
  return decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1))
    .slice(2)
    .split('.')[0] as string;
}

describe.each(topologies())('session adapter telemetry on $name', ({ url }) => {
  let redis: RedisConnection;
  let otel: OtelHarness;
  const prefix = uniquePrefix('sess-otel-http');
  beforeAll(async () => {
    otel = registerOtel();
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis.close();
    await otel.shutdown();
  });

  /** Checks that each request's session load and save are children of that request's span. */
  function expectChildSpans(framework: 'express' | 'fastify', sid: string) {
    const parentOf = (name: string, n: number) => {
      const request = otel.spans(`request ${n}`)[0];
      expect(request).toBeDefined();
      return otel
        .spans(name)
        .filter((s) => s.parentSpanContext?.spanId === request?.spanContext().spanId)
        .map((s) => s.attributes);
    };
    // The first request has no cookie: nothing to load, a new session saved.
    expect(parentOf('session load', 1)).toEqual([]);
    expect(parentOf('session save', 1)).toEqual([
      { 'db.system.name': 'redis', 'db.operation.name': 'save', 'redis_patterns.session.adapter': framework },
    ]);
    for (const n of [2, 3]) {
      expect(parentOf('session load', n)).toEqual([
        {
          'db.system.name': 'redis',
          'db.operation.name': 'load',
          'redis_patterns.session.adapter': framework,
          'redis_patterns.session.found': true,
        },
      ]);
      expect(parentOf('session save', n)).toHaveLength(1);
    }
    expect(otel.spans('session load')).toHaveLength(2);
    // The id is a bearer secret: no span of the store may carry it.
    expect(sid.length).toBeGreaterThanOrEqual(32);
    for (const span of otel.spans()) {
      for (const value of Object.values(span.attributes)) expect(String(value)).not.toContain(sid);
    }
  }

  it('shows an express-session request’s session load and save as children of its span', async () => {
    otel.resetSpans();
    const sessions = createSessionStore({ redis, prefix });
    const app = await expressApp(createExpressStore(sessions));
    try {
      const sid = await visitThrice(app.base);
      expectChildSpans('express', sid);
    } finally {
      await app.close();
    }
  });

  it('shows a @fastify/session request’s session load and save as children of its span', async () => {
    otel.resetSpans();
    const sessions = createSessionStore({ redis, prefix });
    const app = await fastifyApp(createFastifyStore(sessions));
    try {
      const sid = await visitThrice(app.base);
      expectChildSpans('fastify', sid);
    } finally {
      await app.close();
    }
  });

  it('records a failed adapter call as an error span', () =>
    otel.traced(async () => {
      otel.resetSpans();
      const store = createExpressStore(createSessionStore({ redis, prefix }));
      await expect(store.set('short', { cookie: {} } as never)).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
      const [save] = otel.spans('session save');
      expect(save?.status.code).toBe(2);
      expect(save?.attributes['error.type']).toBe('ERR_INVALID_ARGUMENT');
      expect(await store.length()).toBeGreaterThanOrEqual(0);
      expect(otel.spans('session length')).toHaveLength(1);
    }));
});
