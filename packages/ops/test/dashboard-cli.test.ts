import { assertBuilt, freePort, startChild, topologies } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { BIN } from './cli.ts';
import { raw } from './dashboard-helpers.ts';

describe('redis-patterns dashboard', { timeout: 20_000 }, () => {
  const [standalone] = topologies();
  const url = (standalone as { url: string }).url;

  it('prints the URL and the token, serves the page on loopback, and exits 0 on SIGTERM', async () => {
    assertBuilt(new URL('../dist/bin.js', import.meta.url), 'ops');
    const child = startChild(BIN, ['--url', url, 'dashboard', '--port', '0']);
    const shown = await child.line((l) => l.startsWith('Dashboard of '), 10_000);
    const base = /at (http:\/\/127\.0\.0\.1:\d+\/)$/.exec(shown)?.[1] as string;
    expect(base).toBeDefined();
    const token = (await child.line((l) => l.startsWith('Token: '))).slice('Token: '.length);
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(child.lines.join('\n')).toContain('Read-only');
    const page = await raw(base, {});
    expect(page.status).toBe(200);
    expect((await raw(`${base}api/queues`, {})).status).toBe(401);
    const me = await raw(`${base}api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(JSON.parse(me.body)).toMatchObject({ allowWrites: false });
    const started = Date.now();
    child.process.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('takes the token from REDIS_PATTERNS_DASHBOARD_TOKEN and warns when not on loopback', async () => {
    const child = startChild(BIN, ['--url', url, '--json', 'dashboard', '--host', '0.0.0.0', '--port', '0'], {
      env: { REDIS_PATTERNS_DASHBOARD_TOKEN: 'from-the-environment-123' },
    });
    const printed = await child.json<{ url: string; token: string }>(undefined, 10_000);
    expect(printed.token).toBe('from-the-environment-123');
    expect(child.stderr).toContain('not loopback');
    const port = new URL(printed.url).port;
    const me = await raw(`http://127.0.0.1:${port}/api/me`, {
      headers: { authorization: 'Bearer from-the-environment-123' },
    });
    expect(me.status).toBe(200);
    child.process.kill('SIGINT');
    expect((await child.exited).code).toBe(0);
  });

  it('serves the URL it prints for another loopback address (--host 127.0.0.2)', async () => {
    const child = startChild(BIN, [
      '--url',
      url,
      '--json',
      'dashboard',
      '--host',
      '127.0.0.2',
      '--port',
      '0',
    ]);
    const printed = await child.json<{ url: string; token: string }>(undefined, 10_000);
    expect(printed.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+\/$/);
    const me = await raw(`${printed.url}api/me`, { headers: { authorization: `Bearer ${printed.token}` } });
    expect(me.status).toBe(200);
    child.process.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
  });

  it('exits 2 on a short token off loopback, and on a prefix with a brace', async () => {
    const short = startChild(BIN, ['--url', url, 'dashboard', '--host', '0.0.0.0', '--port', '0'], {
      env: { REDIS_PATTERNS_DASHBOARD_TOKEN: 'fifteen-chars!!' },
    });
    expect((await short.exited).code).toBe(2);
    expect(short.stderr).toContain('shorter than 16');
    const brace = startChild(BIN, ['--url', url, 'dashboard', '--port', '0', '--queue-prefix', 'a{b']);
    expect((await brace.exited).code).toBe(2);
    expect(brace.stderr).toContain('prefixes.queue');
  });

  it('fails with exit 1 within seconds when Redis is unreachable', async () => {
    const port = await freePort();
    const started = Date.now();
    const child = startChild(BIN, [
      '--url',
      `redis://127.0.0.1:${port}`,
      '--timeout',
      '1000',
      'dashboard',
      '--port',
      '0',
    ]);
    const exit = await child.exited;
    expect(exit.code).toBe(1);
    expect(child.stderr).toContain('cannot reach Redis');
    expect(child.lines.join('\n')).not.toContain('Token');
    expect(Date.now() - started).toBeLessThan(6000);
  });
});
