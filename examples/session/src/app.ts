import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import type { RedisConnection } from '@redis-patterns/session';
import { createSessionStore, handleOf } from '@redis-patterns/session';
import { createFastifyStore } from '@redis-patterns/session/fastify';
import Fastify, { type FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface Session {
    userId?: string;
    device?: string;
  }
}

export interface AccountsOptions {
  redis: RedisConnection;
  /** At least 32 characters; signs the session cookie. */
  secret: string;
  /** Key prefix of the sessions. @default 'accounts:session:' */
  prefix?: string;
}

/**
 * Login, logout and the devices of a user, on Redis sessions: 30 min idle, 8 h at most, a new
 * session id on login (a planted pre-login id is worthless), every device listed and revocable.
 */
export async function createAccountsApi(options: AccountsOptions): Promise<FastifyInstance> {
  const sessions = createSessionStore({
    redis: options.redis,
    prefix: options.prefix ?? 'accounts:session:',
    idleTtlMs: 30 * 60_000,
    absoluteTtlMs: 8 * 3_600_000,
  });
  // userIdOf binds each framework session to its user, so listForUser and destroyAllForUser see it.
  const store = createFastifyStore(sessions, { userIdOf: (s) => s.userId as string | undefined });

  const app = Fastify();
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    store,
    idGenerator: store.idGenerator,
    secret: options.secret,
    cookieName: 'sid',
    saveUninitialized: false,
    cookie: { secure: 'auto', httpOnly: true, sameSite: 'lax', maxAge: 8 * 3_600_000 },
  });

  const signedIn = (userId: string | undefined, reply: { code(status: number): unknown }) => {
    if (userId === undefined) reply.code(401);
    return userId;
  };

  app.post<{ Body: { user: string; device: string } }>('/login', async (request) => {
    // (Check the password first.) A new id on login; nothing of the anonymous session is kept.
    await request.session.regenerate();
    request.session.userId = request.body.user;
    request.session.device = request.body.device;
    return { user: request.body.user };
  });

  app.get('/me', async (request) => ({ user: request.session.userId ?? null }));

  app.get('/devices', async (request, reply) => {
    const user = signedIn(request.session.userId, reply);
    if (user === undefined) return { error: 'sign in first' };
    const current = handleOf(request.session.sessionId);
    const devices = await sessions.listForUser(user);
    return devices.map((d) => ({
      handle: d.handle,
      device: d.data.device,
      since: new Date(d.createdAt).toISOString(),
      current: d.handle === current,
    }));
  });

  app.post<{ Params: { handle: string } }>('/devices/:handle/logout', async (request, reply) => {
    const user = signedIn(request.session.userId, reply);
    if (user === undefined) return { error: 'sign in first' };
    // Only one of this user's own devices: a handle is not a secret, so check it is theirs.
    const mine = (await sessions.listForUser(user)).some((d) => d.handle === request.params.handle);
    return { ended: mine && (await sessions.revoke(request.params.handle)) };
  });

  app.post('/logout', async (request) => {
    await request.session.destroy();
    return { ok: true };
  });

  app.post('/logout-everywhere-else', async (request, reply) => {
    const user = signedIn(request.session.userId, reply);
    if (user === undefined) return { error: 'sign in first' };
    return { ended: await sessions.destroyAllForUser(user, { except: request.session.sessionId }) };
  });

  return app;
}
