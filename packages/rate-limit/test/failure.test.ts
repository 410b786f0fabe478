import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type RedisConnection } from '@redis-patterns/connection';
import { type RedisServer, startRedis, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNodeRateLimit,
  createRateLimiter,
  type RateLimitResult,
  slidingWindowLog,
} from '../src/index.ts';

const TIMEOUT_MS = 300;
// The decision is due within TIMEOUT_MS; the slack covers a loaded 2-core machine's timer and
// event-loop delays, not extra waiting by the limiter (which would show as ~5 s, the connection's bound).
const SLACK_MS = 400;

describe('rate limiting while Redis is down', () => {
  let server: RedisServer;
  let redis: RedisConnection;
  const prefix = uniquePrefix('rl-down');
  const algorithm = slidingWindowLog({ limit: 5, windowMs: 60_000 });
  const limiter = (failMode: 'open' | 'closed') =>
    createRateLimiter({
      redis,
      prefix: `${prefix}${failMode}:`,
      algorithm,
      failMode,
      commandTimeoutMs: TIMEOUT_MS,
    });

  beforeAll(async () => {
    server = await startRedis({ forceBinary: true });
    redis = await connect({ url: server.url, commandTimeoutMs: 5_000, reconnect: { maxDelayMs: 200 } });
  });
  afterAll(async () => {
    await server?.resume().catch(() => {});
    await redis?.close();
    await server?.stop();
  });

  async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
    const started = performance.now();
    const value = await work;
    return { value, ms: performance.now() - started };
  }

  it('admits (open) or refuses (closed) within commandTimeoutMs when the server is paused', async () => {
    const open = limiter('open');
    const closed = limiter('closed');
    expect((await open.limit('a')).error).toBeUndefined();
    await server.pause();
    try {
      const o = await timed(Promise.all(Array.from({ length: 20 }, () => open.limit('a'))));
      const c = await timed(Promise.all(Array.from({ length: 20 }, () => closed.limit('a'))));
      expect(o.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      expect(c.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      for (const r of o.value) expect(r).toMatchObject({ allowed: true, error: { code: 'ERR_TIMEOUT' } });
      for (const r of c.value) {
        expect(r).toMatchObject({ allowed: false, retryAfterMs: 1000, error: { code: 'ERR_TIMEOUT' } });
      }
      // peek has no fail mode: it reports the failure as a typed error.
      await expect(open.peek('a')).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    } finally {
      await server.resume();
    }
    // Real decisions again once Redis answers. The calls written while it was paused still run when
    // it resumes (their answers come too late to count), so 'a' may be used up by now.
    const after = await open.limit('a');
    expect(after.error).toBeUndefined();
    expect(after.remaining).toBeLessThan(5);
  });

  it('gives serverTimeMs in whole milliseconds since 1970 for a check, a peek and a fail-open result', async () => {
    const open = limiter('open');
    const checked = await open.limit('whole');
    const peeked = await open.peek('whole');
    await server.pause();
    let failedOpen: RateLimitResult;
    try {
      failedOpen = await open.limit('whole');
    } finally {
      await server.resume();
    }
    expect(failedOpen.error).toBeInstanceOf(Error);
    for (const [label, r] of Object.entries({ checked, peeked, failedOpen })) {
      expect(Number.isInteger(r.serverTimeMs), `${label}: ${r.serverTimeMs}`).toBe(true);
      // Milliseconds, not seconds or microseconds: the test's Redis runs on this machine's clock.
      expect(Math.abs(r.serverTimeMs - Date.now()), label).toBeLessThan(60_000);
    }
  });

  it('answers 503 with Retry-After when failing closed, and passes requests when failing open', async () => {
    const closedGuard = createNodeRateLimit({ limiter: limiter('closed') });
    const openGuard = createNodeRateLimit({ limiter: limiter('open') });
    const http: Server = createServer(async (req, res) => {
      const guard = req.url === '/closed' ? closedGuard : openGuard;
      if (await guard(req, res)) res.end('ok');
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    await server.pause();
    try {
      const closed = await timed(fetch(`${base}/closed`));
      expect(closed.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      expect(closed.value.status).toBe(503);
      expect(closed.value.headers.get('retry-after')).toBe('1');
      expect(closed.value.headers.get('ratelimit')).toBeNull();
      expect(closed.value.headers.get('content-type')).toBe('application/problem+json');
      expect(await closed.value.json()).toMatchObject({
        type: 'https://iana.org/assignments/http-problem-types#temporary-reduced-capacity',
        status: 503,
      });
      const open = await fetch(`${base}/open`);
      expect(open.status).toBe(200);
      expect(open.headers.get('ratelimit')).toBeNull();
    } finally {
      await server.resume();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it('fails over within commandTimeoutMs when the server is killed, and recovers after a restart', async () => {
    const closed = limiter('closed');
    expect((await closed.limit('k')).allowed).toBe(true);
    await server.kill();
    try {
      const down = await timed(closed.limit('k'));
      expect(down.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      expect(down.value.allowed).toBe(false);
      // Whatever the failure (a timeout, or the socket closing under the call), the fail mode decides.
      expect(down.value.error).toBeInstanceOf(Error);
    } finally {
      await server.restart();
    }
    // node-redis reconnects with backoff (capped at 200 ms here); wait for a real decision.
    const deadline = Date.now() + 10_000;
    let result = await closed.limit('k');
    while (result.error !== undefined && Date.now() < deadline) result = await closed.limit('k');
    expect(result).toMatchObject({ allowed: true });
    expect(result.error).toBeUndefined();
  });
});
