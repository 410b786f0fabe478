import { setTimeout as sleep } from 'node:timers/promises';
import { connect, createWorker } from '@redis-patterns/queue';
import { emailQueue } from './emails.ts';

const redis = await connect();
const emails = emailQueue(redis);
const sentLog = process.env.SENT_LOG_KEY; // the test reads what was sent from here

const worker = createWorker(
  emails,
  async ({ id, payload, signal }) => {
    await sleep(5, undefined, { signal }); // "send" the email; aborts if we are stopping or lost the lease
    if (sentLog) await redis.send(['RPUSH', sentLog, `${id} ${payload.to}`], { key: sentLog });
  },
  { concurrency: 10 },
);
worker.on('dead', (id, reason, error) => console.error(`email ${id} gave up (${reason}): ${error}`));
worker.on('error', (error) => console.warn('queue:', error.message));
worker.start();
console.log('worker started');

// Graceful stop: no new jobs, in-flight ones finish (or go back to waiting after 10 s), then exit.
process.once('SIGTERM', async () => {
  await worker.stop({ graceful: true, drainTimeoutMs: 10_000 });
  await redis.close();
  console.log('worker stopped');
});
