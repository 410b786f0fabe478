import type { RedisConnection } from '@redis-patterns/queue';
import { createQueue } from '@redis-patterns/queue';

/** What a job carries: small, JSON, enough to redo the work. */
export interface WelcomeEmail {
  to: string;
  template: 'welcome' | 'tips';
}

/** The queue both processes open by name; its keys share one hash tag, so it works on Cluster. */
export function emailQueue(redis: RedisConnection) {
  return createQueue<WelcomeEmail>({
    redis,
    name: process.env.QUEUE_NAME ?? 'emails',
    // An id is deduplicated while its job exists: keeping completed jobs for a day makes a
    // signup retried within a day a no-op instead of a second email.
    keepCompleted: { ageMs: 86_400_000, count: 100_000 },
  });
}
