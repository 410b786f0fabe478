import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, createWorker, type Queue } from '../src/index.ts';
import { waitFor } from './helpers.ts';

describe.each(topologies())('priorities on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('prio');
  let n = 0;
  const fresh = <T>(): Queue<T> => createQueue<T>({ redis, prefix, name: `p${++n}` });

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  /** Runs the queue's jobs one at a time and returns their payloads in the order they ran. */
  async function runInOrder(queue: Queue<string>, count: number): Promise<string[]> {
    const order: string[] = [];
    const worker = createWorker(queue, ({ payload }) => void order.push(payload), { pollIntervalMs: 100 });
    worker.start();
    await waitFor(() => order.length === count, `${count} jobs to run`, 10_000);
    await worker.stop();
    return order;
  }

  it('runs higher priorities first, FIFO within one, and plain jobs after every prioritized one', async () => {
    const queue = fresh<string>();
    const adds: Array<[string, number]> = [
      ['plain-1', 0],
      ['low-1', 1],
      ['high-1', 10],
      ['plain-2', 0],
      ['mid-1', 5],
      ['high-2', 10],
      ['low-2', 1],
      ['top', 1_000_000],
      ['mid-2', 5],
    ];
    for (const [payload, priority] of adds) await queue.add(payload, { priority });
    expect(await queue.counts()).toMatchObject({ waiting: 9, prioritized: 7 });
    expect((await queue.list('waiting')).jobs.map((j) => j.payload)).toEqual([
      'top',
      'high-1',
      'high-2',
      'mid-1',
      'mid-2',
      'low-1',
      'low-2',
      'plain-1',
      'plain-2',
    ]);
    expect(await runInOrder(queue, 9)).toEqual([
      'top',
      'high-1',
      'high-2',
      'mid-1',
      'mid-2',
      'low-1',
      'low-2',
      'plain-1',
      'plain-2',
    ]);
  });

  it('wakes a worker blocked on an empty queue when a prioritized job arrives', async () => {
    const queue = fresh<string>();
    const ran: string[] = [];
    const worker = createWorker(queue, ({ payload }) => void ran.push(payload), { pollIntervalMs: 5_000 });
    worker.start();
    await new Promise((r) => setTimeout(r, 300)); // the worker is now blocked in BLMOVE
    const addedAt = performance.now();
    await queue.add('urgent', { priority: 7 });
    await waitFor(() => ran.length === 1, 'the prioritized job to run', 4_000);
    expect(performance.now() - addedAt).toBeLessThan(2_000);
    await worker.stop();
    expect(await queue.counts()).toMatchObject({ waiting: 0 }); // the wake marker is not a job
  });

  it('pages the waiting list correctly while a wake marker sits in it', async () => {
    const queue = fresh<string>();
    await queue.add('p', { priority: 1 }); // no worker: leaves the wake marker on the empty list
    await queue.remove((await queue.list('waiting')).jobs[0]?.id ?? '');
    for (const payload of ['a', 'b', 'c']) await queue.add(payload);
    expect(await queue.counts()).toMatchObject({ waiting: 3 });
    const first = await queue.list('waiting', { count: 2 });
    expect(first.jobs.map((j) => j.payload)).toEqual(['a', 'b']);
    const second = await queue.list('waiting', { offset: first.nextOffset ?? -1, count: 2 });
    expect(second.jobs.map((j) => j.payload)).toEqual(['c']);
    expect((await queue.peek('waiting', 3)).map((j) => j.payload)).toEqual(['a', 'b', 'c']);
  });

  it('keeps the priority of a retried and of a delayed job', async () => {
    const queue = fresh<string>();
    await queue.add('flaky', { priority: 9, attempts: 2, backoff: { type: 'fixed', delayMs: 0 } });
    await queue.add('later', { priority: 8, delayMs: 50 });
    const order: string[] = [];
    const worker = createWorker(
      queue,
      ({ payload, attempt }) => {
        order.push(`${payload}#${attempt}`);
        if (payload === 'flaky' && attempt === 1) throw new Error('once');
        if (payload === 'flaky') return;
      },
      { pollIntervalMs: 100 },
    );
    // Queue up plain jobs before starting, so that priorities decide.
    for (let i = 0; i < 3; i++) await queue.add(`plain-${i}`);
    await new Promise((r) => setTimeout(r, 80)); // `later` is due now
    worker.start();
    await waitFor(() => order.length === 6, 'all runs', 10_000);
    await worker.stop();
    expect(order.slice(0, 3)).toEqual(['flaky#1', 'flaky#2', 'later#1']);
    expect((await queue.get('plain-0'))?.priority).toBeUndefined();
  });

  it('refuses a bad priority, and a priority with a group, before writing anything', async () => {
    const queue = fresh<string>();
    for (const priority of [-1, 1.5, 1_000_001, Number.NaN]) {
      await expect(queue.add('x', { priority })).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(queue.add('x', { priority: 2, group: 'g' })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await queue.counts()).toMatchObject({ added: 0, waiting: 0 });
  });
});
