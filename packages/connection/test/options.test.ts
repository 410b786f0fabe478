import { describe, expect, it } from 'vitest';
import {
  ConnectionError,
  connect,
  createKeyspace,
  escapeGlob,
  InvalidArgumentError,
  parseRedisUrl,
  redact,
  slotOf,
  toPatternsError,
} from '../src/index.ts';
import { packByTag, TickBatcher } from '../src/internal.ts';
import { tagHash } from '../src/keys.ts';

describe('parseRedisUrl', () => {
  it('reads host, port, ACL user, password and database', () => {
    expect(parseRedisUrl('redis://app:s%40cret@cache.internal:6380/2')).toEqual({
      topology: 'standalone',
      tls: false,
      hosts: [{ host: 'cache.internal', port: 6380 }],
      username: 'app',
      password: 's@cret',
      database: 2,
    });
  });

  it('turns rediss:// into TLS and a bare password into the default user', () => {
    const parsed = parseRedisUrl('rediss://:pw@[::1]');
    expect(parsed.tls).toBe(true);
    expect(parsed.hosts).toEqual([{ host: '::1', port: 6379 }]);
    expect(parsed.username).toBeUndefined();
    expect(parsed.password).toBe('pw');
  });

  it('reads several Cluster nodes or sentinels', () => {
    expect(parseRedisUrl('redis://a:7000,b:7001?cluster=true')).toMatchObject({
      topology: 'cluster',
      hosts: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
    });
    expect(parseRedisUrl('redis://s1:26379,s2/1?sentinelMaster=main')).toMatchObject({
      topology: 'sentinel',
      sentinelMaster: 'main',
      database: 1,
    });
  });

  it.each([
    '',
    '   ',
    'http://localhost',
    'redis://host:99999',
    'redis://host:0',
    'redis://host/db1',
    'redis://a,b',
    'redis://a:1:2',
    'redis://u:p%zz@h:1',
  ])('rejects %j with an invalid-argument error', (url) => {
    expect(() => parseRedisUrl(url)).toThrow(InvalidArgumentError);
  });

  it('never prints a password in its errors', () => {
    expect(redact('redis://u:topsecret@h:1')).toBe('redis://***@h:1');
    expect(redact('redis://topsecret@h:1')).toBe('redis://***@h:1');
    expect(redact('rediss://:topsecret@h:1/0?cluster=true')).toBe('rediss://***@h:1/0?cluster=true');
    expect(redact('redis://h:1')).toBe('redis://h:1');
    // Passwords nobody percent-encoded: every character up to the last @ is hidden.
    for (const password of ['pa#ss', 'pa?ss', 'a b', 'p/w', 'p@w', 'x\ny'])
      expect(redact(`redis://app:${password}@h:1/0`)).toBe('redis://***@h:1/0');
    try {
      parseRedisUrl('redis://u:topsecret@h:1/x');
    } catch (err) {
      expect(String(err)).not.toContain('topsecret');
    }
  });
});

describe('connect() with bad options', () => {
  it.each([
    [{ url: '' }, 'url'],
    [{ url: 'nope' }, 'url'],
    [{ commandTimeoutMs: -1 }, 'commandTimeoutMs'],
    [{ commandTimeoutMs: Number.NaN }, 'commandTimeoutMs'],
    [{ connectTimeoutMs: 0 }, 'connectTimeoutMs'],
    [{ connectTimeoutMs: Number.POSITIVE_INFINITY }, 'connectTimeoutMs'],
    [{ isolationPoolSize: 0 }, 'isolationPoolSize'],
    [{ database: 1.5 }, 'database'],
  ])('rejects %j naming %s, before any socket is opened', async (options, argument) => {
    const error = await connect(options).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe(argument);
    expect((error as InvalidArgumentError).code).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('keyspace', () => {
  const keys = createKeyspace('app:q:');

  it('puts every key of one name in one Cluster slot', () => {
    const a = keys.key('orders', 'waiting');
    const b = keys.key('orders', 'active');
    expect(a).toBe('app:q:{orders}:waiting');
    expect(slotOf(a)).toBe(slotOf(b));
    expect(slotOf(a)).toBe(slotOf('orders'));
  });

  it('hashes keys of one hash tag alike, as their Cluster slot does', () => {
    expect(tagHash('{user1}:a')).toBe(tagHash('{user1}:b'));
    expect(tagHash('x{user1}y')).toBe(tagHash('user1'));
    // An empty tag does not count: the whole key is hashed.
    expect(tagHash('{}a')).not.toBe(tagHash('{}b'));
    const spread = new Set(Array.from({ length: 100 }, (_, i) => tagHash(`key:${i}`) % 4));
    expect(spread.size).toBe(4);
  });

  it('keeps user names with braces inside their own tag, reversibly', () => {
    const key = keys.key('we{ir}d%', 'x');
    expect(key).toBe('app:q:{we%7Bir%7Dd%25}:x');
    expect(keys.tagOf(key)).toBe('we{ir}d%');
    expect(keys.key('a}b')).not.toBe(keys.key('a%7Db'));
  });

  it('escapes glob characters so SCAN patterns match literally', () => {
    expect(escapeGlob('a*b?c[d]e\\')).toBe('a\\*b\\?c\\[d\\]e\\\\');
    expect(keys.pattern('x*')).toBe('app:q:{x\\*}*');
  });

  it.each([
    ['', 'name'],
    ['x'.repeat(1025), 'name'],
  ])('rejects the key part %#', (part, argument) => {
    expect(() => keys.key(part)).toThrow(InvalidArgumentError);
    try {
      keys.key(part);
    } catch (err) {
      expect((err as InvalidArgumentError).argument).toBe(argument);
    }
  });

  it('rejects a prefix with braces', () => {
    expect(() => createKeyspace('a{b')).toThrow(InvalidArgumentError);
  });
});

describe('toPatternsError', () => {
  it('maps node-redis connection errors (whose name is just "Error") to ConnectionError', async () => {
    const { SocketClosedUnexpectedlyError, ClientClosedError, ErrorReply } = await import('redis');
    for (const raw of [new SocketClosedUnexpectedlyError(), new ClientClosedError()]) {
      expect(raw.name).toBe('Error');
      const mapped = toPatternsError(raw, 'GET');
      expect(mapped).toBeInstanceOf(ConnectionError);
      expect((mapped as ConnectionError).cause).toBe(raw);
    }
    const reply = new ErrorReply('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(toPatternsError(reply, 'GET')).toBe(reply);
  });
});

describe('TickBatcher', () => {
  it('hands the items of one tick to one flush, and the next tick to another', async () => {
    const flushes: number[][] = [];
    const batcher = new TickBatcher<number>((items) => flushes.push(items));
    for (const n of [1, 2, 3]) batcher.add(n);
    expect(flushes).toEqual([]);
    await Promise.resolve();
    batcher.add(4);
    await new Promise((r) => setImmediate(r));
    expect(flushes).toEqual([[1, 2, 3], [4]]);
  });

  it('with immediateWhenIdle, sends alone while nothing is in flight and gathers while something is', async () => {
    const flushes: number[][] = [];
    let answer: () => void = () => {};
    const batcher = new TickBatcher<number>(
      (items, track) => {
        flushes.push(items);
        track(new Promise<void>((resolve) => (answer = resolve)));
      },
      { immediateWhenIdle: true },
    );
    batcher.add(1); // idle: out at once
    expect(flushes).toEqual([[1]]);
    batcher.add(2);
    batcher.add(3);
    expect(flushes).toEqual([[1]]);
    await Promise.resolve();
    expect(flushes).toEqual([[1], [2, 3]]);
    answer(); // only the last call answered: one is still in flight
    await new Promise((r) => setImmediate(r));
    batcher.add(4);
    expect(flushes).toHaveLength(2);
  });
});

describe('packByTag', () => {
  it('fills batches up to max, keeps each tag together and in order, and gives a busy tag its own', () => {
    const keys = ['{a}1', '{b}1', '{a}2', 'c', '{b}2', '{d}1', '{d}2', '{d}3', '{d}4', '{d}5', 'e', '{a}3'];
    const batches = packByTag(keys, (k) => k, 4);
    expect(batches).toEqual([
      ['{a}1', '{a}2', '{a}3'],
      ['{b}1', '{b}2', 'c'],
      ['{d}1', '{d}2', '{d}3', '{d}4'],
      ['{d}5'],
      ['e'],
    ]);
    expect(batches.flat().sort()).toEqual([...keys].sort());
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(4);
    expect(packByTag([], (k: string) => k, 4)).toEqual([]);
  });
});
