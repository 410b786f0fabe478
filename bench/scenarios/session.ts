import { connect } from '@redis-patterns/connection';
import { createSessionStore } from '@redis-patterns/session';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { type BenchContext, defineScenario, NODE_REDIS_TIMEOUT_SETTLE_MS, type Runner } from '../scenario.ts';

const SESSIONS = 1_000;
const IDLE_TTL_MS = 30 * 60_000;

/** A typical logged-in express-session session (~250 bytes of JSON). */
function sessionData(i: number) {
  return {
    cookie: {
      originalMaxAge: IDLE_TTL_MS,
      expires: new Date(Date.now() + IDLE_TTL_MS).toISOString(),
      httpOnly: true,
      path: '/',
      sameSite: 'lax',
    },
    userId: `user-${i}`,
    csrfToken: 'c'.repeat(43),
    cart: ['sku-1001', 'sku-2002'],
  };
}

/** Our store's read: one HMGET, plus the touch script when the refresh is due. */
async function ours(url: string, prefix: string, touchAfterMs?: number): Promise<Runner> {
  const redis = await connect({ url });
  const sessions = createSessionStore({
    redis,
    prefix,
    idleTtlMs: IDLE_TTL_MS,
    ...(touchAfterMs === undefined ? {} : { touchAfterMs }),
  });
  const ids: string[] = [];
  for (let i = 0; i < SESSIONS; i++) ids.push((await sessions.create(sessionData(i))).id);
  return {
    op: (i) => sessions.get(ids[i % SESSIONS] as string),
    close: () => redis.close(),
  };
}

export default defineScenario({
  name: 'session',
  description:
    'Read a session and slide its idle TTL, as every request of a logged-in user does (1,000 sessions). ' +
    'Round trips per request: connect-redis get+touch 2, GETEX 1, ours 1. cmds/op also counts the commands a ' +
    'Lua script runs inside Redis: a read of ours is one plain HMGET (1), and once per touchAfterMs per session ' +
    'a second round trip runs the touch script (EVALSHA running HMGET, TIME, HSET, PEXPIRE). With touchAfterMs ' +
    '0 every read slides the TTL in one EVALSHA running HMGET + TIME + HSET + PEXPIRE (5); reads made in the ' +
    'same tick share one EVALSHA and one TIME (at most 25 reads a call), so at 50 in flight about 3.',
  inflight: [1, 50],
  rows: [
    {
      // What express-session does per request with connect-redis: store.get, then store.touch (EXPIRE).
      name: 'connect-redis 9 get+touch (node-redis defaults)',
      peer: true,
      settleMs: NODE_REDIS_TIMEOUT_SETTLE_MS,
      async make({ url }: BenchContext) {
        const client = createClient({ url });
        client.on('error', (error) => console.error('connect-redis client:', error));
        await client.connect();
        const store = new RedisStore({ client, prefix: 'bench:cr:', ttl: IDLE_TTL_MS / 1000 });
        for (let i = 0; i < SESSIONS; i++)
          await store.set(`sid-${i}`, sessionData(i) as unknown as Parameters<RedisStore['set']>[1]);
        return {
          async op(i) {
            const sid = `sid-${i % SESSIONS}`;
            const session = await store.get(sid);
            await store.touch(sid, session);
          },
          close: () => client.close(),
        };
      },
    },
    {
      // A bare command, no store around it: the least a read that slides its TTL can cost.
      name: 'ceiling: GETEX PX (node-redis defaults)',
      peer: false,
      settleMs: NODE_REDIS_TIMEOUT_SETTLE_MS,
      async make({ url }: BenchContext) {
        const client = createClient({ url });
        client.on('error', (error) => console.error('GETEX client:', error));
        await client.connect();
        for (let i = 0; i < SESSIONS; i++) {
          await client.set(`bench:getex:${i}`, JSON.stringify(sessionData(i)), { PX: IDLE_TTL_MS });
        }
        return {
          op: (i) => client.getEx(`bench:getex:${i % SESSIONS}`, { type: 'PX', value: IDLE_TTL_MS }),
          close: () => client.close(),
        };
      },
    },
    {
      name: 'ours get (default touchAfterMs: no write)',
      peer: false,
      make: ({ url }: BenchContext) => ours(url, 'bench:ours:'),
    },
    {
      name: 'ours get (touchAfterMs 0: refresh written every read)',
      peer: false,
      make: ({ url }: BenchContext) => ours(url, 'bench:ours0:', 0),
    },
  ],
});
