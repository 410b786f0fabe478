import {
  ClosedError,
  connect,
  escapeGlob,
  InvalidArgumentError,
  type RedisConnection,
} from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ActiveJob, createQueue, createWorker, type Queue } from '../src/index.ts';
import { waitFor } from './helpers.ts';

describe.each(topologies())('queue on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('queue');
  let n = 0;
  const fresh = <T>(extra: Partial<Parameters<typeof createQueue>[0]> = {}): Queue<T> =>
    createQueue<T>({ redis, prefix, name: `q${++n}`, ...extra });
  const keysOf = async (pattern: string) => {
    const found: string[] = [];
    for await (const key of redis.scan(pattern)) found.push(key);
    return found.sort();
  };

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('adds jobs, runs each once in FIFO order and leaves only the counters behind', async () => {
    const queue = fresh<{ n: number }>();
    await queue.addBulk(Array.from({ length: 30 }, (_, i) => ({ payload: { n: i } })));
    const seen: number[] = [];
    const worker = createWorker(queue, ({ payload }) => {
      seen.push(payload.n);
    });
    worker.start();
    await waitFor(async () => (await queue.counts()).completed === 30, '30 completions');
    await worker.stop();
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(await queue.counts()).toMatchObject({ waiting: 0, active: 0, added: 30, completed: 30 });
    // Every key of the queue shares the {name} tag; only the counters hash is left.
    expect(await keysOf(`${escapeGlob(prefix)}{${queue.name}}*`)).toEqual([`${prefix}{${queue.name}}:stats`]);
  });

  it('makes an add with a given id idempotent, even for 20 producers racing on it', async () => {
    const queue = fresh<string>();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => queue.add(`copy ${i}`, { id: 'order:42' })),
    );
    expect(results.filter((r) => r.added)).toHaveLength(1);
    expect(new Set(results.map((r) => r.id))).toEqual(new Set(['order:42']));
    const bulk = await queue.addBulk([
      { payload: 'again', options: { id: 'order:42' } },
      { payload: 'new', options: { id: 'order:43' } },
      { payload: 'same batch', options: { id: 'order:43' } },
    ]);
    expect(bulk.map((r) => r.added)).toEqual([false, true, false]);
    expect(await queue.counts()).toMatchObject({ waiting: 2, added: 2 });
    const runs: string[] = [];
    const worker = createWorker(queue, ({ id }) => {
      runs.push(id);
    });
    worker.start();
    await waitFor(async () => (await queue.counts()).completed === 2, 'both jobs');
    await worker.stop();
    expect(runs.sort()).toEqual(['order:42', 'order:43']);
  });

  it('adds 2,500 jobs in one round trip per 1,000 and keeps their order', async () => {
    const queue = createQueue<number>({ redis: counting(redis), prefix, name: `q${++n}` });
    scriptCalls = 0;
    const results = await queue.addBulk(Array.from({ length: 2500 }, (_, i) => ({ payload: i })));
    expect(scriptCalls).toBe(3);
    expect(results.every((r) => r.added)).toBe(true);
    const next = await queue.peek('waiting', 3);
    expect(next.map((j) => j.payload)).toEqual([0, 1, 2]);
    expect((await queue.counts()).waiting).toBe(2500);
    await queue.purge();
  });

  it('reports each state through get, peek and counts', async () => {
    const queue = fresh<{ k: string }>({ keepCompleted: { count: 10 } });
    await queue.add({ k: 'ready' }, { id: 'ready' });
    await queue.add({ k: 'later' }, { id: 'later', delayMs: 60_000 });
    await queue.add({ k: 'doomed' }, { id: 'doomed', attempts: 1 });
    expect(await queue.get('ready')).toMatchObject({
      state: 'waiting',
      payload: { k: 'ready' },
      attemptsMade: 0,
    });
    const later = await queue.get('later');
    expect(later?.state).toBe('delayed');
    expect(later?.runAt).toBeGreaterThan(Date.now() + 50_000);
    expect(await queue.get('missing')).toBeUndefined();

    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const worker = createWorker(queue, async ({ payload }: ActiveJob<{ k: string }>) => {
      if (payload.k === 'doomed') throw new TypeError('no such customer');
      await gate;
      return { ok: payload.k };
    });
    worker.start();
    await waitFor(async () => (await queue.get('ready'))?.state === 'active', 'ready to be active');
    expect((await queue.peek('active')).map((j) => j.id)).toEqual(['ready']);
    release();
    await waitFor(async () => (await queue.counts()).completed === 1, 'ready to complete');
    await waitFor(async () => (await queue.counts()).dead === 1, 'doomed to die');
    await worker.stop();

    expect(await queue.get('ready')).toMatchObject({ state: 'completed', result: { ok: 'ready' } });
    expect(await queue.get('doomed')).toMatchObject({
      state: 'dead',
      deadReason: 'failed',
      lastError: 'TypeError: no such customer',
      attemptsMade: 1,
      maxAttempts: 1,
    });
    expect((await queue.peek('dead')).map((j) => j.id)).toEqual(['doomed']);
    expect((await queue.peek('delayed')).map((j) => j.id)).toEqual(['later']);
    expect((await queue.peek('completed')).map((j) => j.id)).toEqual(['ready']);
    expect(await queue.counts()).toEqual({
      waiting: 0,
      active: 0,
      delayed: 1,
      dead: 1,
      completed: 1,
      failed: 1,
      stalled: 0,
      added: 3,
      discarded: 0,
      prioritized: 0,
      grouped: 0,
      paused: false,
    });

    expect(await queue.retryDead()).toBe(1);
    expect(await queue.get('doomed')).toMatchObject({ state: 'waiting', attemptsMade: 0 });
    expect(await queue.purge('waiting')).toBe(1);
    expect(await queue.purge('delayed')).toBe(1);
    expect(await queue.counts()).toMatchObject({ waiting: 0, delayed: 0, discarded: 2, added: 3 });
    expect(await queue.purge()).toBeGreaterThan(0);
    expect(await keysOf(`${escapeGlob(prefix)}{${queue.name}}*`)).toEqual([]);
  });

  it('keeps completed jobs only up to keepCompleted.count, and dead ones up to keepDead.count', async () => {
    const queue = fresh<number>({ keepCompleted: { count: 5 }, keepDead: { count: 2 } });
    await queue.addBulk(Array.from({ length: 20 }, (_, i) => ({ payload: i, options: { attempts: 1 } })));
    const worker = createWorker(
      queue,
      ({ payload }) => {
        if (payload % 4 === 0) throw new Error(`bad ${payload}`);
        return payload * 10;
      },
      { concurrency: 4 },
    );
    worker.start();
    await waitFor(async () => {
      const c = await queue.counts();
      return c.completed + c.failed === 20;
    }, 'all 20 jobs');
    await worker.stop();
    const kept = await queue.peek('completed', 100);
    expect(kept).toHaveLength(5);
    expect(kept.every((j) => j.result === j.payload * 10)).toBe(true);
    expect(await queue.peek('dead', 100)).toHaveLength(2);
    expect(await queue.counts()).toMatchObject({ completed: 15, dead: 2, discarded: 3, added: 20 });
  });

  it('close() stops the queue’s workers in this process and refuses further calls', async () => {
    const queue = fresh<number>();
    await queue.addBulk(Array.from({ length: 5 }, (_, i) => ({ payload: i })));
    const worker = createWorker(queue, () => {}, { concurrency: 2 });
    worker.start();
    await waitFor(async () => (await queue.counts()).completed === 5, 'five jobs');
    await queue.close();
    expect(worker.running).toBe(false);
    await expect(queue.add(6)).rejects.toBeInstanceOf(ClosedError);
    await expect(queue.counts()).rejects.toBeInstanceOf(ClosedError);
    expect(() => worker.start()).toThrow(ClosedError);
  });

  it('refuses bad input with InvalidArgumentError and writes nothing', async () => {
    const emptyPrefix = uniquePrefix('queue-bad');
    const queue = createQueue<unknown>({ redis, prefix: emptyPrefix, name: 'bad', maxPayloadBytes: 1000 });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const refusals: Array<[string, () => Promise<unknown>]> = [
      ['negative delay', () => queue.add(1, { delayMs: -1 })],
      ['attempts < 1', () => queue.add(1, { attempts: 0 })],
      ['fractional attempts', () => queue.add(1, { attempts: 1.5 })],
      ['empty id', () => queue.add(1, { id: '' })],
      ['bad backoff', () => queue.add(1, { backoff: { type: 'linear' } as never })],
      ['undefined payload', () => queue.add(undefined)],
      ['function payload', () => queue.add(() => 1)],
      ['BigInt payload', () => queue.add({ n: 1n })],
      ['circular payload', () => queue.add(circular)],
      ['payload over the limit', () => queue.add('x'.repeat(1001))],
      [
        'one bad job in a bulk',
        () => queue.addBulk([{ payload: 1 }, { payload: 2, options: { attempts: -3 } }]),
      ],
      ['bulk not an array', () => queue.addBulk('nope' as never)],
      ['peek count 0', () => queue.peek('waiting', 0)],
      ['unknown state', () => queue.peek('finished' as never)],
    ];
    for (const [what, call] of refusals) {
      await expect(call(), what).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(() => createQueue({ redis, name: '' })).toThrow(InvalidArgumentError);
    expect(() => createQueue({ redis, name: 'x', keepDead: { count: -1 } })).toThrow(InvalidArgumentError);
    expect(() => createQueue({ redis, name: 'x', defaultJobOptions: { attempts: 0 } })).toThrow(
      InvalidArgumentError,
    );
    expect(() => createWorker(queue, () => {}, { concurrency: 0 })).toThrow(InvalidArgumentError);
    expect(() => createWorker(queue, () => {}, { leaseMs: -5 })).toThrow(InvalidArgumentError);
    expect(() => createWorker(queue, 'nope' as never)).toThrow(InvalidArgumentError);
    expect(() => createWorker(queue, () => {}, null as never)).toThrow(InvalidArgumentError);
    expect(await keysOf(`${escapeGlob(emptyPrefix)}*`)).toEqual([]);
    // The limit is on the serialized size: exactly at it is accepted.
    await expect(queue.add('y'.repeat(998))).resolves.toMatchObject({ added: true });
    await queue.purge();
  });
});

let scriptCalls = 0;

/** The same connection, counting script calls (one per round trip of addBulk). */
function counting(redis: RedisConnection): RedisConnection {
  const runScript = (...args: Parameters<RedisConnection['runScript']>) => {
    scriptCalls++;
    return redis.runScript(...args);
  };
  return new Proxy(redis, {
    get(target, property) {
      if (property === 'runScript') return runScript;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
