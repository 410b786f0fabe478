import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { connect, type RedisConnection } from '@redis-patterns/queue';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '..');

/** Runs one of the example's entry points as its own node process, the way a user would. */
function run(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join('src', script)], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function output(child: ChildProcess): Promise<{ code: number | null; text: string }> {
  let text = '';
  child.stdout?.on('data', (d) => (text += d));
  child.stderr?.on('data', (d) => (text += d));
  const [code] = await once(child, 'exit');
  return { code, text };
}

describe.each(topologies())('queue example processes on $name', ({ url }) => {
  let redis: RedisConnection;
  beforeAll(async () => {
    redis = await connect({ url });
  });
  afterAll(async () => {
    await redis.close();
  });

  it('a worker process sends every queued email once, and stops gracefully on SIGTERM', async () => {
    const name = uniquePrefix('emails').replace(/:$/, '');
    const sentLog = `${name}:sent`;
    const env = { REDIS_URL: url, QUEUE_NAME: name, SENT_LOG_KEY: sentLog, COUNT: '60' };
    const worker = run('worker.ts', env);
    const workerDone = output(worker);
    const produced = await output(run('producer.ts', env));
    expect(produced).toMatchObject({ code: 0 });
    expect(produced.text).toContain('queued 60 of 60 emails');
    const again = await output(run('producer.ts', env)); // the same ids: nothing new
    expect(again.text).toContain('queued 0 of 60 emails');

    const deadline = Date.now() + 30_000;
    let sent = 0;
    while (Date.now() < deadline && sent < 60) {
      sent = Number(await redis.send(['LLEN', sentLog], { key: sentLog }));
      await new Promise((r) => setTimeout(r, 50));
    }
    worker.kill('SIGTERM');
    const { code, text } = await workerDone;
    expect(code).toBe(0);
    expect(text).toContain('worker stopped');
    const lines = (await redis.send<string[]>(['LRANGE', sentLog, '0', '-1'], { key: sentLog })).sort();
    expect(new Set(lines).size).toBe(60);
    expect(lines).toHaveLength(60);
    await redis.send(['DEL', sentLog], { key: sentLog });
  });
});
