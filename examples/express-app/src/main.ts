import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@redis-patterns/session';
import { createApp } from './app.ts';

const catalogue = new Map([['42', { id: '42', name: 'Teapot', priceCents: 2_500 }]]);
const db = {
  async findProduct(id: string) {
    await sleep(200); // a slow query
    return catalogue.get(id) ?? null;
  },
};
const redis = await connect(); // REDIS_URL, else redis://127.0.0.1:6379
const server = createApp({ redis, db }).listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () =>
  console.log('shop on', server.address()),
);
process.once('SIGTERM', () => server.close(() => redis.close()));
