import { PassThrough } from 'node:stream';
import { connect } from '@redis-patterns/connection';
import { createQueue } from '@redis-patterns/queue';
import { freePort, topologies, uniquePrefix } from '@redis-patterns/testing';
import { describe, expect, it } from 'vitest';
import { run } from '../src/index.ts';
import { cli } from './cli.ts';

describe('redis-patterns on an unreachable server', () => {
  it('fails with exit 1 within the timeout, naming the server without its password', async () => {
    const port = await freePort();
    const res = await cli(['--url', `redis://ops:hunter2@127.0.0.1:${port}`, 'queue', 'counts']);
    expect(res.code).toBe(1);
    expect(res.ms).toBeLessThan(8000);
    expect(res.stderr).toMatch(`cannot reach Redis at redis://`);
    expect(res.stderr).toContain(`***@127.0.0.1:${port}`);
    expect(res.stderr).not.toContain('hunter2');
    expect(res.stdout).toBe('');
  });

  it('reports it as JSON on stderr with --json, bounded by --timeout', async () => {
    const port = await freePort();
    const res = await cli([
      '--json',
      '--timeout',
      '800',
      '--url',
      `redis://:hunter2@127.0.0.1:${port}`,
      'status',
    ]);
    expect(res.code).toBe(1);
    expect(res.ms).toBeLessThan(5000);
    const { error } = JSON.parse(res.stderr);
    expect(error.code).toBe('ERR_CONNECTION');
    expect(error.message).not.toContain('hunter2');
  });

  it('gives up on a Cluster whose nodes all refuse, instead of exiting mid-await', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const url = `redis://127.0.0.1:${a},127.0.0.1:${b}?cluster=true`;
    const res = await cli(['--url', url, '--timeout', '1000', 'lock', 'list']);
    expect(res.code).toBe(1);
    expect(res.ms).toBeLessThan(5000);
    expect(res.stderr).toContain('cannot reach Redis');
  });
});

describe('redis-patterns usage errors', () => {
  it.each([
    [['nosuch']],
    [['queue']],
    [['queue', 'get', 'emails']],
    [['queue', 'list', 'emails', 'finished']],
    [['--timeout', 'soon', 'status']],
    [['leaderboard', 'top', 'arcade', '0']],
    // Handles that start with '-' before '--': never the version (exit 0) nor a revoke with -y.
    [['session', 'get', '-VD5bmRDJuQPcirt7oxdaOmLUCfYDFvHhlA9Qwg9ptfQ']],
    [['session', 'revoke', '-yD5bmRDJuQPcirt7oxdaOmLUCfYDFvHhlA9Qwg9ptfQ']],
    [[]],
  ])('exits 2 for %j without touching Redis', async (args) => {
    const port = await freePort(); // nothing listens: a usage error must not even try to connect
    const res = await cli(['--url', `redis://127.0.0.1:${port}`, ...args]);
    expect(res.code).toBe(2);
    expect(res.stderr).not.toBe('');
    expect(res.ms).toBeLessThan(3000);
    const handle = args.find((arg) => arg.startsWith('-') && arg.length > 20);
    if (handle !== undefined) expect(res.stderr).toContain(`if '${handle}' is a value`);
  });

  it('prints usage errors as JSON with --json, and help and version with exit 0', async () => {
    const bad = await cli(['--json', 'queue', 'frobnicate']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stderr)).toEqual({
      error: { code: 'usage', message: expect.stringContaining('frobnicate') },
    });
    const version = await cli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const noun of ['queue', 'lock', 'ratelimit', 'leaderboard', 'session', 'cache', 'status']) {
      expect(help.stdout).toContain(noun);
    }
  });
});

describe('redis-patterns confirmation on a terminal', () => {
  const [standalone] = topologies();
  const url = standalone?.url as string;

  /** Runs in-process with a stdin that says it is a terminal and answers `answer`. */
  async function answering(answer: string, args: string[]) {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    let out = '';
    let err = '';
    const io = {
      stdout: { write: (chunk: string) => (out += chunk) },
      stderr: {
        write: (chunk: string) => {
          err += chunk;
          if (chunk.includes('[y/N]')) stdin.write(`${answer}\n`);
        },
      },
      stdin,
    };
    const code = await run(['--url', url, ...args], io);
    return { code, out, err };
  }

  it('asks before removing a job and does it only on yes', async () => {
    const prefix = uniquePrefix('ops-ask');
    const redis = await connect({ url });
    const queue = createQueue({ redis, name: 'asks', prefix });
    await queue.add({ n: 1 }, { id: 'j1' });
    try {
      const no = await answering('n', ['--prefix', prefix, 'queue', 'remove', 'asks', 'j1']);
      expect(no.err).toContain("About to remove job 'j1' of queue 'asks'");
      expect(no.code).toBe(2);
      expect(await queue.get('j1')).toBeDefined();

      const yes = await answering('y', ['--prefix', prefix, 'queue', 'remove', 'asks', 'j1']);
      expect(yes.code).toBe(0);
      expect(yes.out).toBe('removed job j1\n');
      expect(await queue.get('j1')).toBeUndefined();
    } finally {
      await queue.purge();
      await redis.close();
    }
  });
});
