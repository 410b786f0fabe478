import { startRedis, untilAnswers } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import {
  ConnectionError,
  connect,
  InvalidArgumentError,
  RedisPatternsError,
  TimeoutError,
} from '../src/index.ts';

describe('faults against a real redis-server', () => {
  it('fails a command to a paused server (SIGSTOP) within the command timeout, then recovers', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, commandTimeoutMs: 300 });
    try {
      await server.pause();
      const started = performance.now();
      const error = await redis.send(['GET', 'k']).catch((err: unknown) => err);
      const elapsed = performance.now() - started;
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as TimeoutError).timeoutMs).toBe(300);
      // Never early, and late by at most one sweep tick (30 ms here) plus event-loop noise.
      expect(elapsed).toBeGreaterThanOrEqual(299);
      expect(elapsed).toBeLessThan(600);
      await server.resume();
      expect(await redis.send(['PING'])).toBe('PONG');
    } finally {
      await server.resume().catch(() => {});
      await redis.close();
      await server.stop();
    }
  });

  it('fails with the typed connection error when the server is killed, and recovers when it is back', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, commandTimeoutMs: 500, reconnect: { maxDelayMs: 100 } });
    try {
      await redis.send(['SET', 'k', 'v']);
      await server.kill();
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: 20 }, () => redis.send(['GET', 'k']).catch((err: unknown) => err)),
      );
      expect(performance.now() - started).toBeLessThan(1_000);
      // In flight when the socket closed, or queued while reconnecting: both say "unreachable".
      for (const result of results) expect(result).toBeInstanceOf(ConnectionError);
      await server.restart();
      await untilAnswers(redis);
      expect(await redis.send(['PING'])).toBe('PONG');
    } finally {
      await redis.close();
      await server.stop();
    }
  });

  it('reports an unreachable server as a connection error within connectTimeoutMs', async () => {
    const server = await startRedis({ forceBinary: true });
    await server.kill();
    const started = performance.now();
    const error = await connect({ url: server.url, connectTimeoutMs: 400 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(performance.now() - started).toBeLessThan(1_000);
    await server.stop();
  });

  it('logs in with an ACL user from the URL, and names bad credentials', async () => {
    const server = await startRedis({ forceBinary: true });
    const admin = await connect({ url: server.url });
    try {
      await admin.send(['ACL', 'SETUSER', 'app', 'on', '>app-secret', '~app:*', '+@all']);
      const app = await connect({ url: server.url.replace('redis://', 'redis://app:app-secret@') });
      await app.send(['SET', 'app:x', '1']);
      await expect(app.send(['SET', 'other:x', '1'])).rejects.toThrow(/NOPERM/);
      expect(await app.send(['ACL', 'WHOAMI'])).toBe('app');
      await app.close();
      const wrong = await connect({
        url: server.url.replace('redis://', 'redis://app:wrong@'),
        connectTimeoutMs: 500,
      }).catch((err: unknown) => err);
      expect(wrong).toBeInstanceOf(ConnectionError);
      expect((wrong as Error).message).toMatch(/WRONGPASS|invalid username-password/i);
    } finally {
      await admin.close();
      await server.stop();
    }
  });

  it('bounds close() when the server died with commands in flight', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, commandTimeoutMs: 300 });
    await server.pause();
    const inflight = redis.send(['GET', 'k']).catch((err: unknown) => err);
    const started = performance.now();
    await redis.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await inflight).toBeInstanceOf(RedisPatternsError);
    await server.resume();
    await server.stop();
  });

  it('times out a caller waiting for an exhausted isolation pool, and serves it once a connection frees', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, commandTimeoutMs: 300, isolationPoolSize: 1 });
    try {
      let releaseHolder = () => {};
      const holding = redis.isolated('k', () => new Promise<void>((resolve) => (releaseHolder = resolve)));
      const started = performance.now();
      const starved = await redis.isolated('k', async () => 'ran').catch((err: unknown) => err);
      expect(starved).toBeInstanceOf(TimeoutError);
      expect(performance.now() - started).toBeLessThan(1_000);
      const waiting = redis.isolated('k', async () => 'ran');
      releaseHolder();
      await holding;
      expect(await waiting).toBe('ran');
    } finally {
      await redis.close();
      await server.stop();
    }
  });

  it('reports a slow command (DEBUG SLEEP) as a timeout while other connections stay usable', async () => {
    const server = await startRedis({ forceBinary: true, args: ['--enable-debug-command', 'yes'] });
    const redis = await connect({ url: server.url, commandTimeoutMs: 200 });
    try {
      const error = await redis.send(['DEBUG', 'SLEEP', '0.6']).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as Error).message).toMatch(/DEBUG got no reply within 200 ms/);
      // Once the server is responsive again the same connection answers: replies stay in order.
      await new Promise((r) => setTimeout(r, 600));
      expect(await redis.send(['PING'])).toBe('PONG');
    } finally {
      await redis.close();
      await server.stop();
    }
  });

  it('never runs a command later that failed while Redis was down (no ghost writes after a reconnect)', async () => {
    const server = await startRedis({
      forceBinary: true,
      args: ['--appendonly', 'yes', '--appendfsync', 'always'],
    });
    const redis = await connect({ url: server.url, commandTimeoutMs: 500, reconnect: { maxDelayMs: 100 } });
    try {
      await redis.send(['SET', 'counter', '0']);
      await server.kill();
      // Wait until the client noticed the socket closed, then try to write.
      const deadline = Date.now() + 5_000;
      while (redis.isReady && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const started = performance.now();
      const error = await redis.send(['INCR', 'counter']).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(ConnectionError);
      expect(performance.now() - started).toBeLessThan(250); // failed fast, not after the timeout
      await server.restart();
      await untilAnswers(redis);
      expect(await redis.send(['GET', 'counter'])).toBe('0');
    } finally {
      await redis.close();
      await server.stop();
    }
  });

  it('refuses a bad per-command timeout before sending anything', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url });
    try {
      expect(() => redis.send(['INCR', 'x'], { timeoutMs: Number.NaN })).toThrow(InvalidArgumentError);
      expect(() => redis.send(['INCR', 'x'], { timeoutMs: -1 })).toThrow(InvalidArgumentError);
      expect(await redis.send(['GET', 'x'])).toBeNull();
    } finally {
      await redis.close();
      await server.stop();
    }
  });
});
