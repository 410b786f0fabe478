import { connect, type RedisConnection } from '@redis-patterns/connection';
import { createQueue, type Queue } from '@redis-patterns/queue';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, parsed } from './cli.ts';

describe.each(topologies())('redis-patterns queue on $name', ({ url }) => {
  const prefix = uniquePrefix('ops-queue');
  let redis: RedisConnection;
  let emails: Queue<{ to: string }>;
  const q = (...args: string[]) => cli(['--url', url, '--prefix', prefix, 'queue', ...args]);

  beforeAll(async () => {
    redis = await connect({ url });
    emails = createQueue({ redis, name: 'emails', prefix });
    const reports = createQueue({ redis, name: 'reports', prefix });
    for (const n of [1, 2, 3]) await emails.add({ to: `u${n}@example.com` }, { id: `mail-${n}` });
    await reports.add({ to: 'boss@example.com' }, { id: 'weekly', delayMs: 60_000 });
    await reports.close();
  });
  afterAll(async () => {
    await emails?.purge();
    await createQueue({ redis, name: 'reports', prefix }).purge();
    await redis?.close();
  });

  it('counts one queue, and finds every queue under the prefix by SCAN', async () => {
    const one = parsed(await q('counts', 'emails', '--json'));
    expect(one).toMatchObject({ name: 'emails', waiting: 3, delayed: 0, dead: 0, paused: false });
    const all = parsed<Array<{ name: string; waiting: number; delayed: number }>>(
      await q('counts', '--json'),
    );
    expect(all.map((r) => [r.name, r.waiting, r.delayed])).toEqual([
      ['emails', 3, 0],
      ['reports', 0, 1],
    ]);
    const table = await q('counts');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^QUEUE\s+WAITING\s+ACTIVE\s+DELAYED/);
    expect(table.stdout).toMatch(/\nemails\s+3\s+0\s+0\s/);
  });

  it('lists a state a page at a time and gets one job, exit 1 for a job that does not exist', async () => {
    const page = parsed(await q('list', 'emails', 'waiting', '--count', '2', '--json'));
    expect(page.jobs.map((j: { id: string }) => j.id)).toEqual(['mail-1', 'mail-2']);
    expect(page.nextOffset).toBe(2);
    const rest = parsed(await q('list', 'emails', '--offset', '2', '--json'));
    expect(rest.jobs.map((j: { id: string }) => j.id)).toEqual(['mail-3']);
    const delayed = await q('list', 'reports', 'delayed');
    expect(delayed.stdout).toMatch(/weekly\s+delayed/);

    const job = parsed(await q('get', 'emails', 'mail-2', '--json'));
    expect(job).toMatchObject({ id: 'mail-2', state: 'waiting', payload: { to: 'u2@example.com' } });
    const missing = await q('get', 'emails', 'nope', '--json');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(JSON.parse(missing.stderr)).toEqual({
      error: { code: 'failed', message: expect.stringContaining("'nope'") },
    });
  });

  it('refuses to remove a job without --yes when there is no terminal (exit 2), removes it with --yes', async () => {
    const refused = await q('remove', 'emails', 'mail-3');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(await emails.get('mail-3')).toBeDefined();

    const removed = parsed(await q('remove', 'emails', 'mail-3', '--yes', '--json'));
    expect(removed).toEqual({ id: 'mail-3', result: 'removed' });
    expect(await emails.get('mail-3')).toBeUndefined();
    expect((await q('remove', 'emails', 'mail-3', '--yes')).code).toBe(1);
  });

  it('cancels a waiting job into the dead-letter set and retries it back to waiting', async () => {
    expect((await q('cancel', 'emails', 'mail-2')).code).toBe(2);
    expect(parsed(await q('cancel', 'emails', 'mail-2', '-y', '--json'))).toEqual({
      id: 'mail-2',
      result: 'cancelled',
    });
    expect(await emails.get('mail-2')).toMatchObject({ state: 'dead', deadReason: 'cancelled' });

    expect(parsed(await q('retry', 'emails', 'mail-2', '--json'))).toEqual({ retried: 1 });
    expect((await emails.get('mail-2'))?.state).toBe('waiting');
    // Retrying every dead job is a bulk change: it asks first.
    expect((await q('retry', 'emails')).code).toBe(2);
  });

  it('pauses and resumes the queue for every worker', async () => {
    expect(parsed(await q('pause', 'emails', '--json'))).toEqual({ name: 'emails', paused: true });
    expect(await emails.isPaused()).toBe(true);
    const resumed = await q('resume', 'emails');
    expect(resumed.stdout).toBe('queue emails running');
    expect(await emails.isPaused()).toBe(false);
  });

  it('shows the limits and the schedules', async () => {
    await emails.setLimits({ concurrency: 4 });
    expect(parsed(await q('limits', 'emails', '--json'))).toEqual({ concurrency: 4 });
    await emails.schedule('digest', { everyMs: 3_600_000, payload: { to: 'all@example.com' } });
    const schedules = parsed(await q('schedules', 'emails', '--json'));
    expect(schedules).toMatchObject([
      { id: 'digest', everyMs: 3_600_000, payload: { to: 'all@example.com' } },
    ]);
    expect((await q('schedules', 'emails')).stdout).toMatch(/digest\s.*1h00m/);
  });
});
