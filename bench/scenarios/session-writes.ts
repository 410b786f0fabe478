// The writes of express-session's store: a request that changes its session (a read, then a save)
// and a login (regenerate: the destroy of the anonymous id, then the new session's save).
import { randomBytes } from 'node:crypto';
import { connect } from '@redis-patterns/connection';
import { createSessionStore } from '@redis-patterns/session';
import { createExpressStore } from '@redis-patterns/session/express';
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { createClient } from 'redis';
import { type BenchContext, defineScenario, NODE_REDIS_TIMEOUT_SETTLE_MS, type Runner } from '../scenario.ts';

const SESSIONS = 1_000;
const IDLE_TTL_MS = 30 * 60_000;

/** A typical logged-in express-session session (~250 bytes of JSON), as the store is handed it. */
function sessionData(userId: string, cart: string[]): SessionData {
  const cookie = {
    originalMaxAge: IDLE_TTL_MS,
    expires: new Date(Date.now() + IDLE_TTL_MS),
    httpOnly: true,
    path: '/',
    sameSite: 'lax',
  };
  return { cookie, userId, csrfToken: 'c'.repeat(43), cart } as unknown as SessionData;
}

type Cart = SessionData & { cart: string[] };

/** What both stores are driven through: express-session's store methods, as promises. */
interface Store {
  get(sid: string): Promise<SessionData | null | undefined>;
  set(sid: string, session: SessionData): Promise<void>;
  destroy(sid: string): Promise<void>;
}

async function oursStore(url: string, prefix: string) {
  const redis = await connect({ url });
  const sessions = createSessionStore({ redis, prefix, idleTtlMs: IDLE_TTL_MS });
  const store = createExpressStore(sessions, { userIdOf: (s) => (s as { userId?: string }).userId });
  return { store: store as unknown as Store, genid: () => store.genid(), close: () => redis.close() };
}

async function peerStore(url: string, prefix: string) {
  const client = createClient({ url });
  client.on('error', (error) => console.error('connect-redis client:', error));
  await client.connect();
  const store = new RedisStore({ client, prefix, ttl: IDLE_TTL_MS / 1000 });
  // express-session's default generator (uid-safe): 24 random bytes, base64url.
  const genid = () => randomBytes(24).toString('base64url');
  return { store: store as unknown as Store, genid, close: () => client.close() };
}

/** A request that adds an item to its cart: express-session's get, then set of the changed session. */
async function saves(made: Awaited<ReturnType<typeof oursStore>>): Promise<Runner> {
  const { store, genid } = made;
  const ids: string[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const sid = genid();
    await store.set(sid, sessionData(`user-${i}`, ['sku-1001']));
    ids.push(sid);
  }
  return {
    async op(i) {
      const sid = ids[i % SESSIONS] as string;
      const session = (await store.get(sid)) as Cart;
      // The last 3 items: every save writes about as much.
      session.cart = [...session.cart, `sku-${i}`].slice(-3);
      await store.set(sid, session);
    },
    close: made.close,
  };
}

/** A new visitor's login: regenerate (the anonymous id's destroy), then the new session's save. */
function logins(made: Awaited<ReturnType<typeof oursStore>>): Runner {
  const { store, genid } = made;
  return {
    async op(i) {
      await store.destroy(genid());
      await store.set(genid(), sessionData(`user-${i % SESSIONS}`, []));
    },
    close: made.close,
  };
}

export default defineScenario({
  name: 'session-writes',
  description:
    "express-session's writes, through each store's express-session interface. save: a request that changes its " +
    'session (get, then set of the changed session; 1,000 sessions). connect-redis: GET, then SET of the whole ' +
    'session. Ours: HMGET, then one script (HMGET, TIME, HSET, PEXPIRE) that takes the whole data while the ' +
    'version the read saw still holds (the change merged in Redis when it does not). login: regenerate, then ' +
    'the save of the new session with its user. connect-redis: DEL of the anonymous id, then SET. Ours: the ' +
    "anonymous id's destroy sends nothing (the store generated it and never saved it), and one script writes the " +
    "session and its entry in the user's index (EXISTS, TIME, ZADD, ZREMRANGEBYSCORE, ZRANGE, PEXPIREAT, HSET, " +
    'PEXPIRE).',
  inflight: [1, 50],
  rows: [
    {
      name: 'connect-redis 9 save (get + set)',
      peer: true,
      group: 'save',
      settleMs: NODE_REDIS_TIMEOUT_SETTLE_MS,
      make: async ({ url }: BenchContext) => saves(await peerStore(url, 'bench:crw:')),
    },
    {
      name: 'ours save (get + set, express store)',
      peer: false,
      group: 'save',
      make: async ({ url }: BenchContext) => saves(await oursStore(url, 'bench:oursw:')),
    },
    {
      name: 'connect-redis 9 login (destroy + set)',
      peer: true,
      group: 'login',
      settleMs: NODE_REDIS_TIMEOUT_SETTLE_MS,
      make: async ({ url }: BenchContext) => logins(await peerStore(url, 'bench:crl:')),
    },
    {
      name: 'ours login (destroy + set, express store, with the user index)',
      peer: false,
      group: 'login',
      make: async ({ url }: BenchContext) => logins(await oursStore(url, 'bench:oursl:')),
    },
  ],
});
