// Runs in a fresh project where only the packed tarballs and `redis` are installed.
import { connect, createQueue, createWorker } from '@redis-patterns/queue';

const redis = await connect({ url: process.env.REDIS_URL });
const queue = createQueue({ redis, name: `smoke-${process.pid}` });
await queue.addBulk(Array.from({ length: 10 }, (_, i) => ({ payload: { n: i } })));
let sum = 0;
const worker = createWorker(queue, async ({ payload }) => {
  sum += payload.n;
});
worker.start();
const deadline = Date.now() + 10_000;
while ((await queue.counts()).completed < 10 && Date.now() < deadline)
  await new Promise((r) => setTimeout(r, 20));
await worker.stop();
await queue.purge();
await queue.close();
await redis.close();
if (sum !== 45) throw new Error(`processed sum ${sum}, expected 45`);
console.log('10 jobs added in bulk and processed');
