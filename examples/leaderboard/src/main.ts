import { connect } from '@redis-patterns/leaderboard';
import { createGameApi } from './app.ts';

// REDIS_URL (standalone, or several nodes with ?cluster=true), else redis://127.0.0.1:6379.
const redis = await connect();
const server = createGameApi(redis).listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () =>
  console.log('leaderboard API on', server.address()),
);
process.once('SIGTERM', () => server.close(() => redis.close()));
