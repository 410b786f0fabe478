import { InvalidArgumentError, type Serializer } from '@redis-patterns/connection';
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, frameEnvelope, serializeValue } from '../src/envelope.ts';
import { createCache } from '../src/index.ts';
import { losslessJson } from '../src/serializer.ts';

const roundTrip = (value: unknown) =>
  losslessJson.deserialize(Buffer.from(losslessJson.serialize(value) as string));

describe('losslessJson', () => {
  it('restores every supported type exactly, nested in objects, arrays, maps and sets', () => {
    const value = {
      date: new Date(1_700_000_000_123),
      invalidDate: new Date(Number.NaN),
      big: 12345678901234567890123n,
      negativeBig: -5n,
      map: new Map<unknown, unknown>([
        [1, 'one'],
        [{ k: 1 }, new Set([1n])],
      ]),
      set: new Set(['a', new Date(0)]),
      bytes: new Uint8Array([0, 1, 255]),
      buffer: Buffer.from([9, 8, 7]),
      missing: undefined,
      nan: Number.NaN,
      inf: Infinity,
      negInf: -Infinity,
      negZero: -0,
      list: [undefined, 1, null, 'x'],
      looksLikeMarker: ['\u0000d', 5],
      nested: [['\u0000u']],
      text: 'plain \u0000 text',
      ['__proto__']: { polluted: true },
    };
    const back = roundTrip(value) as typeof value;
    expect(back.date).toBeInstanceOf(Date);
    expect(back.date.getTime()).toBe(1_700_000_000_123);
    expect(Number.isNaN(back.invalidDate.getTime())).toBe(true);
    expect(back.big).toBe(12345678901234567890123n);
    expect(back.negativeBig).toBe(-5n);
    expect([...back.map.entries()]).toEqual([
      [1, 'one'],
      [{ k: 1 }, new Set([1n])],
    ]);
    expect(back.set).toEqual(new Set(['a', new Date(0)]));
    expect(back.bytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(back.bytes)).toBe(false);
    expect([...back.bytes]).toEqual([0, 1, 255]);
    expect(Buffer.isBuffer(back.buffer)).toBe(true);
    expect([...back.buffer]).toEqual([9, 8, 7]);
    expect('missing' in back).toBe(true);
    expect(back.missing).toBeUndefined();
    expect(back.nan).toBeNaN();
    expect(back.inf).toBe(Infinity);
    expect(back.negInf).toBe(-Infinity);
    expect(Object.is(back.negZero, -0)).toBe(true);
    expect(back.list).toEqual([undefined, 1, null, 'x']);
    expect(back.list.length).toBe(4);
    expect(back.looksLikeMarker).toEqual(['\u0000d', 5]);
    expect(back.nested).toEqual([['\u0000u']]);
    expect(back.text).toBe('plain \u0000 text');
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('round-trips top-level scalars, including undefined, -0 and BigInt', () => {
    for (const value of [undefined, null, 0, -0, 1.5, 'text', true, 10n, Number.NaN, new Date(3)]) {
      const back = roundTrip(value);
      if (value instanceof Date) expect((back as Date).getTime()).toBe(3);
      else expect(Object.is(back, value)).toBe(true);
    }
  });

  it('stores plain JSON with the native fast path and honours toJSON like JSON.stringify', () => {
    expect(losslessJson.serialize({ a: [1, 'x', null] })).toBe('j{"a":[1,"x",null]}');
    const decimal = { toJSON: () => '12.50' };
    expect(roundTrip({ price: decimal })).toEqual({ price: '12.50' });
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    expect(roundTrip(new Point(1, 2))).toEqual({ x: 1, y: 2 });
  });

  it('refuses functions, symbols, cycles and unsupported typed arrays with InvalidArgumentError', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const cyclicMap = new Map<string, unknown>();
    cyclicMap.set('me', cyclicMap);
    for (const bad of [() => 1, { f() {} }, Symbol('s'), cyclic, [cyclicMap], new Float32Array(2)]) {
      expect(() => losslessJson.serialize(bad)).toThrow(InvalidArgumentError);
    }
    // A shared (non-cyclic) reference is fine: it is stored twice.
    const shared = { n: 1 };
    expect(roundTrip([shared, shared])).toEqual([{ n: 1 }, { n: 1 }]);
  });
});

describe('envelope', () => {
  const meta = { createdMs: 1000, freshMs: 50, staleMs: 0, staleIfErrorMs: 0, tags: undefined };

  it('reads back what it frames, with raw bytes stored byte for byte', () => {
    const raw = Buffer.from([0, 10, 255, 67, 49]);
    const framed = frameEnvelope(serializeValue(raw, { owner: 'me' }, losslessJson), meta, 1000);
    expect(framed.subarray(framed.length - raw.length)).toEqual(raw);
    const envelope = decodeEnvelope(framed);
    expect(envelope?.codec).toBe('raw:B');
    expect(envelope?.metadata).toEqual({ owner: 'me' });
    expect(envelope?.payload).toEqual(raw);
  });

  it('treats anything that is not a well-formed v1 entry as corrupt', () => {
    const good = frameEnvelope(serializeValue({ a: 1 }, undefined, losslessJson), meta, 1000);
    expect(decodeEnvelope(good)).toBeDefined();
    for (const bad of ['', 'C1', 'C2[1,2,3,4,"x",0]\nj1', 'C1[1,2\nj1', 'C1{"a":1}\nj1', 'hello world']) {
      expect(decodeEnvelope(Buffer.from(bad))).toBeUndefined();
    }
  });

  it('refuses a value above the size limit before anything is written', () => {
    const value = serializeValue('x'.repeat(2000), undefined, losslessJson);
    expect(() => frameEnvelope(value, meta, 1000)).toThrow(/maxValueBytes/);
  });
});

describe('the serializer option', () => {
  it('refuses a custom serializer without a name at createCache, naming serializer.name', () => {
    const unnamed: Serializer = {
      serialize: (value) => JSON.stringify(value),
      deserialize: (payload) => JSON.parse(String(payload)),
    };
    // Never connected: the options are refused before the client is touched.
    const redis = createClient();
    for (const serializer of [unnamed, { ...unnamed, name: '' }]) {
      expect(() => createCache({ redis, serializer })).toThrow(InvalidArgumentError);
      expect(() => createCache({ redis, serializer })).toThrow(
        expect.objectContaining({ argument: 'serializer.name' }),
      );
    }
  });
});
