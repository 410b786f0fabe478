import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionStore, type Serializer } from '../src/index.ts';
import { keyOf, keysUnder, storedData } from './helpers.ts';

/** Text that says whether it holds a Date, so Dates come back as Dates. */
const dates: Serializer = {
  name: 'dates',
  serialize: (value) => (value instanceof Date ? `D${value.toISOString()}` : `J${JSON.stringify(value)}`),
  deserialize: (payload) => {
    const text = String(payload);
    return text.startsWith('D') ? new Date(text.slice(1)) : JSON.parse(text.slice(1));
  },
};

describe.each(topologies())('session serializer on $name', ({ url }) => {
  let redis: RedisConnection;

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it("takes connect-redis's `serializer: JSON` and stores each property as JSON text", async () => {
    const prefix = uniquePrefix('session-json');
    const sessions = createSessionStore<{ cart: string[]; n?: number }>({ redis, prefix, serializer: JSON });
    const { id } = await sessions.create({ cart: ['book'] });
    expect(await sessions.update(id, { n: 2 })).toBe(true);
    expect((await sessions.get(id))?.data).toEqual({ cart: ['book'], n: 2 });
    expect(await storedData(redis, keyOf(prefix, id))).toEqual({ cart: '["book"]', n: '2' });
  });

  it('round-trips Dates through a { serialize, deserialize } serializer on create, get and update', async () => {
    const prefix = uniquePrefix('session-dates');
    const sessions = createSessionStore<{ at: Date; seen?: Date[] }>({ redis, prefix, serializer: dates });
    const at = new Date('2030-01-02T03:04:05.000Z');
    const created = await sessions.create({ at });
    expect(created.data.at).toEqual(at);
    expect((await storedData(redis, keyOf(prefix, created.id))).at).toBe(`D${at.toISOString()}`);
    expect((await sessions.get(created.id))?.data.at).toEqual(at);

    const later = new Date('2031-05-06T07:08:09.000Z');
    expect(await sessions.update(created.id, { at: later })).toBe(true);
    expect((await sessions.get(created.id))?.data.at).toEqual(later);
    expect(await sessions.update(created.id, (data) => ({ ...data, seen: [data.at] }))).toBe(true);
    const data = (await sessions.get(created.id))?.data;
    expect(data?.at).toBeInstanceOf(Date);
    // A Date inside an array goes through JSON (the serializer sees top-level properties only).
    expect(data?.seen).toEqual([later.toISOString()]);
  });

  it('refuses a serializer that returns bytes at create(), before any key is written', async () => {
    const prefix = uniquePrefix('session-bytes');
    const sessions = createSessionStore({
      redis,
      prefix,
      serializer: {
        serialize: (value) => new TextEncoder().encode(JSON.stringify(value)),
        deserialize: (payload) => JSON.parse(String(payload)),
      },
    });
    const refused = await sessions.create({ n: 1 }, { userId: 'u1' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(InvalidArgumentError);
    expect((refused as InvalidArgumentError).argument).toBe('data.n');
    expect((refused as Error).message).toMatch(/bytes/);
    expect(await keysUnder(redis, prefix)).toEqual([]);
  });

  it('uses stringify and parse when an object has both shapes (superjson has both)', async () => {
    const prefix = uniquePrefix('session-both');
    const both = {
      ...dates,
      // superjson's serialize returns an object, not text: it must not be the one used.
      serialize: () => ({ json: 'not text' }) as unknown as string,
      stringify: (value: unknown) => dates.serialize(value) as string,
      parse: (text: string) => dates.deserialize(text),
    };
    const sessions = createSessionStore<{ at: Date }>({ redis, prefix, serializer: both });
    const at = new Date('2030-01-02T03:04:05.000Z');
    const { id } = await sessions.create({ at });
    expect((await sessions.get(id))?.data.at).toEqual(at);
  });

  it('refuses a serializer of neither shape when the store is created', () => {
    const bad: unknown[] = [
      {},
      null,
      JSON.stringify,
      { serialize: () => '' },
      { stringify: () => '' },
      { serialize: () => '', deserialize: () => 1, name: 7 },
    ];
    for (const serializer of bad) {
      let error: unknown;
      try {
        createSessionStore({ redis, serializer: serializer as Serializer });
      } catch (err) {
        error = err;
      }
      expect(error, String(serializer)).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).argument).toMatch(/^serializer/);
    }
  });
});
