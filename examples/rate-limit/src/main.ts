import { connect } from '@redis-patterns/rate-limit';
import { createApi } from './app.ts';

const redis = await connect(); // REDIS_URL, else redis://127.0.0.1:6379
const app = await createApi({ redis });
await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log('api on', app.server.address());
process.once('SIGTERM', () => app.close().then(() => redis.close()));
