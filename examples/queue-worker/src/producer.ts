import { connect } from '@redis-patterns/queue';
import { emailQueue } from './emails.ts';

// REDIS_URL (standalone, or several nodes with ?cluster=true), else redis://127.0.0.1:6379.
const redis = await connect();
const emails = emailQueue(redis);
const count = Number(process.env.COUNT ?? 100);
// A job id per signup makes a retried add idempotent: the same user never gets two welcome emails.
const added = await emails.addBulk(
  Array.from({ length: count }, (_, i) => ({
    payload: { to: `user${i}@example.com`, template: 'welcome' as const },
    options: { id: `welcome:user${i}` },
  })),
);
console.log(`queued ${added.filter((a) => a.added).length} of ${count} emails`);
await redis.close();
