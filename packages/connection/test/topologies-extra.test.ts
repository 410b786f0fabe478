import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis, startSentinel } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { ConnectionError, connect, defineScript } from '../src/index.ts';

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('connect() in a script', () => {
  it('rejects with ConnectionError when every Cluster seed refuses, rather than letting Node exit 13', async () => {
    const port = await freePort(); // nothing listens there
    const dist = new URL('../dist/index.js', import.meta.url).href;
    const script = `import { connect } from '${dist}';
try { await connect({ url: 'redis://127.0.0.1:${port}?cluster=true', connectTimeoutMs: 500 }); }
catch (err) { console.log(err.name); }`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(out.trim()).toBe('ConnectionError');
  });
});

describe('Sentinel', () => {
  it('connects through a sentinel, runs commands, WATCH transactions and SCAN on the master', async () => {
    const master = await startRedis({ forceBinary: true });
    const sentinel = await startSentinel(master);
    const redis = await connect({ url: sentinel.url });
    try {
      expect(redis.topology).toBe('sentinel');
      await redis.send(['SET', 'sentinel:k', '1']);
      const reply = await redis.isolated('sentinel:k', async (client) => {
        await redis.bounded(client.watch('sentinel:k'));
        const value = Number(await redis.bounded(client.get('sentinel:k')));
        return redis.bounded(
          client
            .multi()
            .set('sentinel:k', String(value + 1))
            .exec(),
        );
      });
      expect(reply).toEqual(['OK']);
      expect(await redis.send(['GET', 'sentinel:k'])).toBe('2');
      // Leases go back to the sentinel's pool: far more isolated calls and blocking leases than
      // either pool's size still work, and ordinary commands are never starved.
      for (let i = 0; i < 40; i++) {
        await redis.isolated('sentinel:k', (client) => redis.bounded(client.watch('sentinel:k')));
        const blocking = await redis.dedicated('sentinel:k');
        blocking.release();
      }
      expect(await redis.send(['INCR', 'sentinel:k'])).toBe(3);
      const keys: string[] = [];
      for await (const key of redis.scan('sentinel:*')) keys.push(key);
      expect(keys).toEqual(['sentinel:k']);
    } finally {
      await redis.close();
      await sentinel.stop();
      await master.stop();
    }
  });
});

describe.skipIf(!haveOpenssl())('TLS', () => {
  it('connects with rediss:// and a CA, and refuses a server it cannot verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redis-patterns-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'],
        ...['-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
      ],
      { stdio: 'ignore' },
    );
    const tlsPort = await freePort();
    const server = await startRedis({
      forceBinary: true,
      args: [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        cert,
        '--tls-key-file',
        key,
        '--tls-auth-clients',
        'no',
      ],
    });
    try {
      const url = `rediss://127.0.0.1:${tlsPort}`;
      const redis = await connect({ url, tls: { ca: readFileSync(cert) } });
      expect(await redis.send(['PING'])).toBe('PONG');
      await redis.close();
      const untrusted = await connect({ url, connectTimeoutMs: 500 }).catch((err: unknown) => err);
      expect(untrusted).toBeInstanceOf(ConnectionError);
      expect((untrusted as Error).message).toMatch(/certificate/i);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('several sockets to one server', () => {
  it('keeps each key (and hash tag) on one socket, spreads keys over all, and survives a killed socket', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, sockets: 3 });
    try {
      // CLIENT ID sent with a key names the socket that key's commands use.
      const idOf = (key: string) => redis.send<number>(['CLIENT', 'ID'], { key });
      const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
      const ids = await Promise.all(keys.map(idOf));
      expect(new Set(ids).size).toBe(3);
      expect(await Promise.all(keys.map(idOf))).toEqual(ids);
      expect(await idOf('{k7}:other')).toBe(ids[7]);

      // Un-awaited commands on one key stay in order.
      const replies = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          i % 3 === 2
            ? redis.send(['GET', 'ordered'], { key: 'ordered' })
            : redis.send(['INCR', 'ordered'], { key: 'ordered' }),
        ),
      );
      replies.forEach((reply, i) => {
        if (i % 3 === 2) expect(Number(reply)).toBe(Math.floor(i / 3) * 2 + 2);
      });

      // Reads of one hot key spread over the sockets, yet never overtake a write issued before them.
      const readIds = await Promise.all(
        Array.from({ length: 9 }, () => redis.send<number>(['CLIENT', 'ID'], { key: 'hot', readonly: true })),
      );
      expect(new Set(readIds).size).toBe(3);
      // The write waits behind a blocked command on its socket; the read after it must wait too.
      await redis.send(['SET', 'hot', '0'], { key: 'hot' });
      const blocked = redis.send(['BLPOP', '{hot}:never', '0.2'], { key: 'hot' });
      const write = redis.send<number>(['INCR', 'hot'], { key: 'hot' });
      const reads = [1, 2, 3].map(() => redis.send<string>(['GET', 'hot'], { key: 'hot', readonly: true }));
      expect(await Promise.all(reads)).toEqual(['1', '1', '1']);
      expect(await write).toBe(1);
      await blocked;

      // A socket (not the first, which keyless commands use) killed by the server: its keys go to
      // the first socket until it is back.
      const first = await redis.send<number>(['CLIENT', 'ID']);
      const victim = ids.find((id) => id !== first) as number;
      const victimKey = keys[ids.indexOf(victim)] as string;
      await redis.send(['CLIENT', 'KILL', 'ID', String(victim)]);
      const after: unknown[] = [];
      for (let i = 0; i < 50; i++)
        after.push(
          await redis.send(['SET', victimKey, String(i)], { key: victimKey }).catch((e: unknown) => e),
        );
      // A command that raced the close fails with a typed error (it is never replayed later).
      const failed = after.filter((r) => r !== 'OK');
      expect(failed.length).toBeLessThanOrEqual(1);
      for (const error of failed) expect(error).toBeInstanceOf(ConnectionError);
      expect(after.at(-1)).toBe('OK');
      expect(await redis.send(['GET', victimKey], { key: victimKey })).toBe('49');
    } finally {
      await redis.close();
      await server.stop();
    }
  });

  it('keeps a multi-key command in order with the commands on its keys before and after it', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, sockets: 3 });
    const mget = defineScript('mgetKeys', "return redis.call('MGET', unpack(KEYS))");
    const mset = defineScript('msetKeys', "for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[1]) end");
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `g${i}`);
      // Nothing in flight: one group, so a batch of many keys stays one call.
      expect(redis.groupBySlot(keys, (k) => k)).toHaveLength(1);
      for (let round = 1; round <= 20; round++) {
        // Writes to every key, not awaited, then one read of all of them per group (as the
        // batching patterns do): a read on another socket than a key's write could run first.
        const writes = keys.map((k) => redis.send(['SET', k, `w${round}`], { key: k }));
        const groups = redis.groupBySlot(keys, (k) => k);
        const reads = groups.map((group) => redis.runScript<string[]>(mget, [...group].reverse(), []));
        await Promise.all(writes);
        for (const values of await Promise.all(reads))
          expect(new Set(values)).toEqual(new Set([`w${round}`]));
        // And the other way: one batch write, then a command on each key: none may run before it.
        const batch = redis.runScript(mset, [...keys].reverse(), [`b${round}`]);
        const after = keys.map((k) => redis.send<string>(['GET', k], { key: k }));
        await batch;
        expect(new Set(await Promise.all(after))).toEqual(new Set([`b${round}`]));
      }
    } finally {
      await redis.close();
      await server.stop();
    }
  });

  it('holds a multi-key command whose keys are in flight on two sockets until both are answered', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, sockets: 2 });
    try {
      const idOf = (key: string) => redis.send<number>(['CLIENT', 'ID'], { key });
      // Two keys on different sockets.
      const a = 'pa0';
      const aSocket = await idOf(a);
      let b = '';
      for (let i = 0; b === ''; i++) if ((await idOf(`pb${i}`)) !== aSocket) b = `pb${i}`;
      for (let round = 0; round < 20; round++) {
        // A flood on a's socket, one write on b's, then a DEL of both (not grouped by groupBySlot),
        // then a later write to b: the DEL must run after the first write to b and before the second.
        const flood = Array.from({ length: 200 }, () => redis.send(['SET', a, 'x'], { key: a }));
        const first = redis.send(['SET', b, '1'], { key: b });
        const del = redis.send(['DEL', a, b], { keys: [a, b] });
        const second = redis.send(['SET', b, '2'], { key: b });
        await Promise.all([...flood, first, del, second]);
        expect(await redis.send(['GET', b], { key: b })).toBe('2');
        expect(await redis.send(['EXISTS', a], { key: a })).toBe(0);
      }
    } finally {
      await redis.close();
      await server.stop();
    }
  });

  it('refuses a socket count that is not a positive integer', async () => {
    for (const sockets of [0, 1.5, Number.NaN]) {
      await expect(connect({ url: 'redis://127.0.0.1:1', sockets })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
    }
  });
});
