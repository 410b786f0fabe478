import { connect, escapeGlob, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createQueue,
  createWorker,
  InvalidArgumentError,
  jsonSerializer,
  type Serializer,
} from '../src/index.ts';
import { waitFor } from './helpers.ts';

/** JSON that keeps Dates: `{ $date: iso }` on the wire. */
const datesSerializer: Serializer = {
  name: 'dates',
  serialize: (value) =>
    JSON.stringify(value, function (this: Record<string, unknown>, key, plain) {
      // JSON.stringify has already turned a Date into a string by now; the holder still has it.
      const raw = this[key];
      return raw instanceof Date ? { $date: raw.toISOString() } : plain;
    }),
  deserialize: (payload) =>
    JSON.parse(String(payload), (_key, value) =>
      value !== null && typeof value === 'object' && typeof value.$date === 'string'
        ? new Date(value.$date)
        : value,
    ),
};

describe.each(topologies())('queue serializer on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('queue-serializer');
  let n = 0;
  const keysOf = async (pattern: string) => {
    const found: string[] = [];
    for await (const key of redis.scan(pattern)) found.push(key);
    return found;
  };

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('refuses a payload the serializer encodes as bytes, before anything is written', async () => {
    const bytes: Serializer = {
      serialize: (value) => new TextEncoder().encode(JSON.stringify(value)),
      deserialize: (payload) => JSON.parse(String(payload)),
    };
    const name = `s${++n}`;
    const queue = createQueue<{ n: number }>({ redis, prefix, name, serializer: bytes });
    const refused = queue.add({ n: 1 }, { id: 'bytes' });
    await expect(refused).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(refused).rejects.toMatchObject({ argument: 'payload' });
    await expect(queue.addBulk([{ payload: { n: 2 } }])).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await keysOf(`${escapeGlob(prefix)}{${name}}*`)).toEqual([]);
  });

  it('refuses a serializer option without serialize and deserialize functions', () => {
    const bad: unknown[] = [null, { serialize: JSON.stringify }, { ...jsonSerializer, name: 7 }];
    for (const serializer of bad) {
      expect(() => createQueue({ redis, prefix, name: 'bad', serializer: serializer as Serializer })).toThrow(
        InvalidArgumentError,
      );
    }
  });

  it('round-trips a payload and a kept result through a worker with a custom serializer', async () => {
    type Payload = { due: Date; tags: string[] };
    const seen: unknown[] = [];
    const serializer: Serializer = {
      serialize: (value) => datesSerializer.serialize(value),
      deserialize: (payload) => {
        seen.push(typeof payload);
        return datesSerializer.deserialize(payload);
      },
    };
    const queue = createQueue<Payload>({
      redis,
      prefix,
      name: `s${++n}`,
      serializer,
      keepCompleted: { count: 10 },
    });
    const due = new Date('2031-05-04T03:02:01.123Z');
    await queue.add({ due, tags: ['a', 'b'] }, { id: 'dated' });
    const received: Payload[] = [];
    const worker = createWorker(queue, ({ payload }) => {
      received.push(payload);
      return { handledFor: payload.due };
    });
    worker.start();
    await waitFor(async () => (await queue.counts()).completed === 1, 'the dated job');
    await worker.stop();
    expect(received).toHaveLength(1);
    expect(received[0]?.due).toBeInstanceOf(Date);
    expect(received[0]).toEqual({ due, tags: ['a', 'b'] });
    const info = await queue.get('dated');
    expect(info).toMatchObject({ state: 'completed', payload: { due }, result: { handledFor: due } });
    const result = info?.result as { handledFor?: unknown } | undefined;
    expect(result?.handledFor).toBeInstanceOf(Date);
    // The queue stores text, so deserialize always gets the string serialize returned.
    expect(new Set(seen)).toEqual(new Set(['string']));
  });

  it('keeps a result the serializer encodes as bytes empty and still completes the job', async () => {
    const serializer: Serializer = {
      serialize: (value) => (value instanceof Uint8Array ? value : JSON.stringify(value)),
      deserialize: (payload) => JSON.parse(String(payload)),
    };
    const queue = createQueue<string>({
      redis,
      prefix,
      name: `s${++n}`,
      serializer,
      keepCompleted: { count: 10 },
    });
    await queue.add('give me bytes', { id: 'binary-result' });
    const worker = createWorker(queue, () => new Uint8Array([1, 2, 3]));
    worker.start();
    await waitFor(async () => (await queue.counts()).completed === 1, 'the job');
    await worker.stop();
    const info = await queue.get('binary-result');
    expect(info).toMatchObject({ state: 'completed', payload: 'give me bytes' });
    expect(info).not.toHaveProperty('result');
  });
});
