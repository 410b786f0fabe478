import { createQueue, createWorker } from '@redis-patterns/queue';
import { type DemoScenario, expectThat } from './scenario.ts';

type Email = { n: number; kind: 'ok' | 'flaky' | 'broken' };

export const queueTour: DemoScenario = {
  name: 'queue',
  title: 'Queue: 20 jobs, a retry with backoff and a dead letter',
  async run({ redis, log }) {
    const prefix = `demo:${process.pid}:`;
    const queue = createQueue<Email>({
      redis,
      prefix,
      name: 'emails',
      defaultJobOptions: { attempts: 2, backoff: { type: 'fixed', delayMs: 100 } },
    });
    try {
      const jobs = Array.from({ length: 20 }, (_, n) => ({
        payload: { n, kind: n === 7 ? 'flaky' : n === 13 ? 'broken' : 'ok' } as Email,
        options: { id: `email-${n}` },
      }));
      await queue.addBulk(jobs);
      const again = await queue.add({ n: 0, kind: 'ok' }, { id: 'email-0' });
      log(`Added 20 jobs in one round trip; adding email-0 again → added: ${again.added} (idempotent by id)`);
      expectThat(!again.added, 'a second add with the same id was accepted');

      const worker = createWorker(
        queue,
        async ({ payload, attempt }) => {
          if (payload.kind === 'broken') throw new Error('mailbox does not exist');
          if (payload.kind === 'flaky' && attempt === 1) throw new Error('SMTP timeout');
        },
        { concurrency: 5, pollIntervalMs: 100 },
      );
      worker.on('failed', (job, error, retryInMs) =>
        log(
          `${job.id} failed on attempt ${job.attempt}/${job.maxAttempts} (${String(error)}) → ${
            retryInMs === undefined ? 'no attempts left' : `retry in ${retryInMs} ms`
          }`,
        ),
      );
      worker.on('dead', (id, reason) => log(`${id} moved to the dead-letter set (${reason})`));
      worker.start();
      const deadline = performance.now() + 4_000;
      let counts = await queue.counts();
      while (counts.completed + counts.dead < 20 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        counts = await queue.counts();
      }
      await worker.stop();
      log(
        `Counts: ${counts.completed} completed, ${counts.dead} dead, ${counts.failed} failed attempts, ` +
          `${counts.waiting} waiting, ${counts.active} active, ${counts.delayed} delayed`,
      );
      expectThat(
        counts.completed === 19 && counts.dead === 1 && counts.failed === 3,
        `expected 19 completed, 1 dead, 3 failed attempts; got ${JSON.stringify(counts)}`,
      );
      const [dead] = await queue.peek('dead');
      log(`Dead letter: ${dead?.id} after ${dead?.attemptsMade} attempts, last error "${dead?.lastError}"`);
      expectThat(dead?.id === 'email-13', `the dead letter is ${dead?.id}, expected email-13`);
      const completedKeys: string[] = [];
      for await (const key of redis.scan(`${prefix}{emails}:job:*`)) completedKeys.push(key);
      log(`Job hashes left: ${completedKeys.length} (completed jobs are deleted; the dead one is kept)`);
    } finally {
      // The demo's keys expire on their own.
      for await (const key of redis.scan(`${prefix}{emails}*`)) {
        await redis.send(['PEXPIRE', key, '60000'], { key });
      }
    }
  },
};
