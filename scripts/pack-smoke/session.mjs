// Runs in a fresh project where only the packed tarballs and `redis` are installed.
import { connect, createSessionStore } from '@redis-patterns/session';

const redis = await connect({ url: process.env.REDIS_URL });
const sessions = createSessionStore({
  redis,
  prefix: 'smoke:session:',
  idleTtlMs: 60_000,
  absoluteTtlMs: 600_000,
});
const session = await sessions.create({ cart: ['apple'] }, { userId: 'u1' });
const read = await sessions.get(session.id);
const rotated = await sessions.regenerate(session.id);
const old = await sessions.get(session.id);
await sessions.destroyAllForUser('u1');
await redis.close();
if (read?.data.cart[0] !== 'apple' || rotated === null || old !== null)
  throw new Error('session flow failed');
console.log('create, get, regenerate, destroyAllForUser');
