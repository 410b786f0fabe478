import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionStore } from '../src/index.ts';
import { hash, keyOf, keysUnder, storedData } from './helpers.ts';

type Cart = { cart: string[]; name?: string; counter?: number; [field: string]: unknown };

describe.each(topologies())('session store input on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('session');
  const store = <Data extends object = Cart>(
    options: Partial<Parameters<typeof createSessionStore>[0]> = {},
  ) => createSessionStore<Data>({ redis, prefix, ...options });

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('refuses bad input with a typed error and writes nothing', async () => {
    const own = uniquePrefix('session-bad');
    const strict = createSessionStore<Record<string, unknown>>({ redis, prefix: own, maxSizeBytes: 1_000 });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const badData = [
      null,
      [],
      'text',
      42,
      { big: 10n },
      { fn: () => 1 },
      circular,
      { huge: 'x'.repeat(2_000) },
    ];
    for (const data of badData) {
      await expect(strict.create(data as Record<string, unknown>)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    }
    for (const userId of ['', 7, 'u'.repeat(2_000)]) {
      await expect(strict.create({}, { userId: userId as string })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    }
    expect(await keysUnder(redis, own)).toEqual([]);

    const { id } = await strict.create({ text: 'x'.repeat(500) });
    const key = keyOf(own, id);
    const before = await hash(redis, key);
    const badIds = ['', 'short', 'x'.repeat(5_000), 42, null, undefined, {}] as unknown as string[];
    for (const bad of badIds) {
      await expect(strict.update(bad, { a: 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(strict.destroy(bad)).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(strict.regenerate(bad)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(strict.update(id, { more: 'y'.repeat(600) })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(strict.update(id, { big: 1n })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(strict.update(id, () => null as unknown as Record<string, unknown>)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(strict.destroyAllForUser('u', { except: 'nope' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(await hash(redis, key)).toEqual(before);
    expect(await keysUnder(redis, own)).toEqual([key]);

    // Text Redis's JSON library cannot read back (a lone UTF-16 surrogate) is refused up front.
    await expect(strict.create({ '\ud800': 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(strict.update(id, { '\udfff': 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await hash(redis, key)).toEqual(before);
    expect(await keysUnder(redis, own)).toEqual([key]);
  });

  it('counts the size of data with slashes as Redis stores it, so what create accepted stays patchable', async () => {
    const own = uniquePrefix('session-size');
    const strict = createSessionStore<Record<string, unknown>>({ redis, prefix: own, maxSizeBytes: 1_000 });
    const { id } = await strict.create({ returnTo: '/a'.repeat(400) });
    expect(await strict.update(id, { n: 1 })).toBe(true);
    const stored = (await hash(redis, keyOf(own, id))).d ?? '';
    expect(Buffer.byteLength(stored)).toBe(
      JSON.stringify({ returnTo: JSON.stringify('/a'.repeat(400)), n: '1' }).length,
    );
    expect((await strict.get(id))?.data).toEqual({ returnTo: '/a'.repeat(400), n: 1 });
  });

  it('refuses bad options when the store is created', () => {
    const bad: Array<Record<string, unknown>> = [
      { idleTtlMs: 0 },
      { idleTtlMs: -1 },
      { idleTtlMs: 1.5 },
      { absoluteTtlMs: Number.NaN },
      { idleTtlMs: 1_000, touchAfterMs: 1_000 },
      { maxSizeBytes: 0 },
      { prefix: 'a{b}' },
      { serializer: {} },
    ];
    for (const options of bad) {
      expect(() => createSessionStore({ redis, ...options })).toThrow(InvalidArgumentError);
    }
    expect(() => createSessionStore({ redis: undefined as never })).toThrow(InvalidArgumentError);
  });

  it('stores data through a custom serializer, each property on its own, and keeps "__proto__" as data', async () => {
    const dates = store<{ at: Date; plain?: unknown }>({
      serializer: {
        stringify: (value) =>
          value instanceof Date ? `D${value.toISOString()}` : `J${JSON.stringify(value)}`,
        parse: (text) => (text.startsWith('D') ? new Date(text.slice(1)) : JSON.parse(text.slice(1))),
      },
    });
    const at = new Date('2030-01-02T03:04:05.000Z');
    const { id } = await dates.create({ at });
    expect((await dates.get(id))?.data.at).toEqual(at);
    expect((await storedData(redis, keyOf(prefix, id))).at).toBe(`D${at.toISOString()}`);
    await dates.update(id, JSON.parse('{"__proto__": {"polluted": true}}'));
    const data = (await dates.get(id))?.data as Record<string, unknown>;
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(data).sort()).toEqual(['__proto__', 'at']);
  });
});
