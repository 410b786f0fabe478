import { connect } from '@redis-patterns/session';
import { createAccountsApi } from './app.ts';

const secret = process.env.SESSION_SECRET ?? '';
if (secret.length < 32) throw new Error('Set SESSION_SECRET to at least 32 random characters.');
const redis = await connect(); // REDIS_URL, else redis://127.0.0.1:6379
const app = await createAccountsApi({ redis, secret });
await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log('accounts on', app.server.address());
process.once('SIGTERM', () => app.close().then(() => redis.close()));
