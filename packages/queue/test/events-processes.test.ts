import { fileURLToPath } from 'node:url';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { type Child, startChild, topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createQueue,
  createQueueEvents,
  JobFailedError,
  type QueueEventMap,
  type QueueEvents,
} from '../src/index.ts';
import { waitFor } from './helpers.ts';

// The worker runs in a child process on the BUILT packages: build connection and queue
// (npx tsc -p tsconfig.build.json) first. The subscriber and the producer are this process.
const fixture = fileURLToPath(new URL('./fixtures/events-worker-child.mjs', import.meta.url));

type Seen = Array<{ name: string; jobId: string; eventId: string; detail: Record<string, unknown> }>;

/** Every job event, with the fields beyond eventId / jobId as `detail`. */
function record(events: QueueEvents): Seen {
  const seen: Seen = [];
  const names: Array<keyof QueueEventMap> = [
    'added',
    'active',
    'progress',
    'completed',
    'failed',
    'retrying',
    'dead',
    'stalled',
    'cancelled',
    'removed',
  ];
  for (const name of names) {
    events.on(name, (event: any) => {
      const { eventId, jobId, ...detail } = event;
      seen.push({ name, jobId, eventId, detail });
    });
  }
  return seen;
}

describe.each(topologies())('queue events across processes on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('evproc');
  const workers: Child[] = [];

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    for (const w of workers) w.process.kill('SIGKILL');
    await redis?.close();
  });

  it('a subscriber here sees each job of a worker process go added, active, progress, completed / failed, retrying, dead, in order', async () => {
    const name = 'lifecycle';
    const queue = createQueue<{ n: number; fail?: 'once' | 'always' }>({ redis, prefix, name });
    await using events = await createQueueEvents(queue);
    const seen = record(events);
    const errors: Error[] = [];
    events.on('error', (error) => errors.push(error));
    const worker = startChild(fixture, [JSON.stringify({ url, name, prefix })], { stderr: 'inherit' });
    workers.push(worker);
    await worker.line('READY', 30_000);
    try {
      const retry = { attempts: 2, backoff: { type: 'fixed' as const, delayMs: 20 } };
      await queue.add({ n: 1 }, { id: 'ok' });
      await queue.add({ n: 2, fail: 'once' }, { id: 'flaky', ...retry });
      await queue.add({ n: 3, fail: 'always' }, { id: 'bad', ...retry });
      const finished = (id: string) =>
        seen.some((e) => e.jobId === id && ['completed', 'dead'].includes(e.name));
      await waitFor(() => ['ok', 'flaky', 'bad'].every(finished), 'all three jobs to finish');

      const of = (id: string) => seen.filter((e) => e.jobId === id).map(({ name, detail }) => [name, detail]);
      expect(of('ok')).toEqual([
        ['added', {}],
        ['active', { attempt: 1 }],
        ['progress', { progress: { step: 1 } }],
        ['progress', { progress: { step: 2 } }],
        ['completed', { result: { doubled: 2 } }],
      ]);
      expect(of('flaky')).toEqual([
        ['added', {}],
        ['active', { attempt: 1 }],
        ['progress', { progress: { step: 1 } }],
        ['failed', { attempt: 1, error: 'Error: boom 2 on attempt 1' }],
        ['retrying', { attempt: 2, delayMs: 20 }],
        ['active', { attempt: 2 }],
        ['progress', { progress: { step: 1 } }],
        ['progress', { progress: { step: 2 } }],
        ['completed', { result: { doubled: 4 } }],
      ]);
      expect(of('bad')).toEqual([
        ['added', {}],
        ['active', { attempt: 1 }],
        ['progress', { progress: { step: 1 } }],
        ['failed', { attempt: 1, error: 'Error: boom 3 on attempt 1' }],
        ['retrying', { attempt: 2, delayMs: 20 }],
        ['active', { attempt: 2 }],
        ['progress', { progress: { step: 1 } }],
        ['failed', { attempt: 2, error: 'Error: boom 3 on attempt 2' }],
        ['dead', { reason: 'failed', error: 'Error: boom 3 on attempt 2' }],
      ]);
      // One stream, one order: the ids only grow, and the last one is where a resume would start.
      const ids = seen.map((e) => e.eventId);
      expect([...ids].sort(compareIds)).toEqual(ids);
      expect(new Set(ids).size).toBe(ids.length);
      expect(errors).toEqual([]);
    } finally {
      worker.send('stop');
      await worker.exited;
      await queue.purge();
    }
  });

  it('waitUntilFinished in the producer resolves with the result of a job run by another process, and rejects for a dead one', async () => {
    const name = 'wait';
    // Completed jobs are deleted at once (the default): the result comes from the completed event.
    const queue = createQueue<{ n: number; fail?: 'always' }>({ redis, prefix, name });
    // The history on before the first add: waitUntilFinished switches it on too, but a job the other
    // process finished before that left no event to find (the README says so).
    await (await createQueueEvents(queue)).close();
    const worker = startChild(fixture, [JSON.stringify({ url, name, prefix })], { stderr: 'inherit' });
    workers.push(worker);
    await worker.line('READY', 30_000);
    try {
      const { id } = await queue.add({ n: 21 });
      await expect(queue.waitUntilFinished(id, { timeoutMs: 10_000 })).resolves.toEqual({ doubled: 42 });
      expect(await queue.get(id)).toBeUndefined(); // deleted at once, yet its result was delivered

      const many = await queue.addBulk(Array.from({ length: 20 }, (_, n) => ({ payload: { n } })));
      const results = await Promise.all(
        many.map((job) => queue.waitUntilFinished(job.id, { timeoutMs: 10_000 })),
      );
      expect(results).toEqual(many.map((_, n) => ({ doubled: n * 2 })));

      // Finished and deleted before the call: found in the history.
      const early = await queue.add({ n: 5 });
      await waitFor(async () => (await queue.get(early.id)) === undefined, 'the job to complete');
      await expect(queue.waitUntilFinished(early.id, { timeoutMs: 5_000 })).resolves.toEqual({ doubled: 10 });

      const bad = await queue.add({ n: 7, fail: 'always' }, { attempts: 1 });
      const error = await queue.waitUntilFinished(bad.id, { timeoutMs: 10_000 }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(JobFailedError);
      expect(error).toMatchObject({
        jobId: bad.id,
        reason: 'failed',
        lastError: 'Error: boom 7 on attempt 1',
      });
      // Kept in the dead-letter set: a later call answers from the job itself.
      await expect(queue.waitUntilFinished(bad.id, { timeoutMs: 5_000 })).rejects.toBeInstanceOf(
        JobFailedError,
      );
    } finally {
      worker.send('stop');
      await worker.exited;
      await queue.purge();
    }
  });

  it('keeps the history capped near maxLen however many events are written', async () => {
    const name = 'capped';
    const queue = createQueue({ redis, prefix, name });
    await (await createQueueEvents(queue, { maxLen: 100 })).close();
    for (let i = 0; i < 5; i++) await queue.addBulk(Array.from({ length: 400 }, (_, n) => ({ payload: n })));
    const key = `${prefix}{${name}}:events`;
    const length = await redis.send<number>(['XLEN', key], { key });
    // `MAXLEN ~ 100` trims whole stream nodes (100 entries each by default): between 100 and 200 stay.
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThanOrEqual(200);
    await queue.purge();
  });
});

function compareIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt);
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}
