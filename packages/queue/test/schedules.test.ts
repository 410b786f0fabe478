import { connect, InvalidArgumentError, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { Cron } from 'croner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, createWorker, type Queue, type ScheduleOptions } from '../src/index.ts';
import { delayingFires, sleep, waitFor } from './helpers.ts';

/** The run time in a scheduled job's id `<scheduleId>:<ms>`. */
const runOf = (id: string) => Number(id.slice(id.lastIndexOf(':') + 1));
const byTime = (a: number, b: number) => a - b;

describe.each(topologies())('schedules on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('sched');
  let n = 0;
  const fresh = <T>(name = `s${++n}`): Queue<T> => createQueue<T>({ redis, prefix, name });

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  /** Starts a worker that records the ids it runs; returns the ids and a stop function. */
  function record<T>(queue: Queue<T>, payloads: T[] = []) {
    const ids: string[] = [];
    const handler = ({ id, payload }: { id: string; payload: T }) => {
      ids.push(id);
      payloads.push(payload);
    };
    const worker = createWorker(queue, handler, { pollIntervalMs: 100, concurrency: 4 });
    worker.start();
    return { ids, stop: () => worker.stop() };
  }

  it('creates one schedule when 10 producers declare it at once, and a repeat is a no-op', async () => {
    const name = `s${++n}`;
    const producers = Array.from({ length: 10 }, () => fresh<{ kind: string }>(name));
    const spec: ScheduleOptions<{ kind: string }> = {
      cron: '0 9 * * 1-5',
      tz: 'Europe/Paris',
      payload: { kind: 'report' },
    };
    const results = await Promise.all(producers.map((q) => q.schedule('report', spec)));
    expect(results.filter((r) => r.status === 'created')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'unchanged')).toHaveLength(9);
    expect(new Set(results.map((r) => r.nextRunAt)).size).toBe(1);
    const again = await (producers[3] as Queue<{ kind: string }>).schedule('report', { ...spec });
    expect(again).toEqual({ status: 'unchanged', nextRunAt: results[0]?.nextRunAt });
    const listed = await (producers[0] as Queue<{ kind: string }>).schedules();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      id: 'report',
      cron: '0 9 * * 1-5',
      tz: 'Europe/Paris',
      payload: { kind: 'report' },
    });
  });

  it("computes cron runs in the schedule's time zone: 09:00 in Tokyo is 00:00 UTC", async () => {
    const queue = fresh<string>();
    const before = Date.now();
    const tokyo = await queue.schedule('tokyo', { cron: '0 9 * * *', tz: 'asia/tokyo', payload: 'jst' });
    const utc = await queue.schedule('utc', { cron: '0 9 * * *', payload: 'utc' });
    const at = (ms: number | undefined) => new Date(ms as number);
    expect(at(tokyo.nextRunAt).getUTCHours()).toBe(0);
    expect(at(utc.nextRunAt).getUTCHours()).toBe(9);
    for (const [result, timezone] of [
      [tokyo, 'Asia/Tokyo'],
      [utc, 'UTC'],
    ] as const) {
      // The next match after the time of the call, as croner computes it in that zone.
      const expected = new Cron('0 9 * * *', { timezone, paused: true }).nextRun(new Date(before));
      expect(result.nextRunAt).toBe(expected?.getTime());
    }
    // The zone is stored by its canonical name, so another spelling declares the same schedule.
    expect((await queue.getSchedule('tokyo'))?.tz).toBe('Asia/Tokyo');
    expect(
      (await queue.schedule('tokyo', { cron: '0 9 * * *', tz: 'Asia/Tokyo', payload: 'jst' })).status,
    ).toBe('unchanged');
  });

  it('enqueues a per-second cron schedule once per second, on whole seconds', async () => {
    const queue = fresh<string>();
    await queue.schedule('tick', { cron: '* * * * * *', tz: 'Asia/Tokyo', payload: 'tick' });
    const run = record(queue);
    await waitFor(() => run.ids.length >= 3, '3 runs', 6_000);
    await run.stop();
    const times = run.ids.map(runOf).sort(byTime);
    expect(times.every((t) => t % 1000 === 0)).toBe(true);
    for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBe(1000);
  });

  it('runs an interval schedule on its grid from startAt, one job per run, with its job options', async () => {
    const queue = fresh<{ n: number }>();
    const startAt = Date.now() + 300;
    await queue.schedule('every', {
      everyMs: 150,
      startAt,
      payload: { n: 1 },
      job: { attempts: 1, priority: 5 },
    });
    const payloads: Array<{ n: number }> = [];
    const run = record(queue, payloads);
    await waitFor(() => run.ids.length >= 8, '8 runs', 6_000);
    await run.stop();
    const times = run.ids.map(runOf).sort(byTime);
    expect(new Set(times).size).toBe(times.length);
    for (const [i, t] of times.entries()) expect(t).toBe(startAt + i * 150);
    expect(payloads.every((p) => p.n === 1)).toBe(true);
    expect((await queue.getSchedule('every'))?.job).toEqual({ attempts: 1, priority: 5 });
  });

  /**
   * Runs schedule `id` (every 100 ms from `startAt`) with a worker on each queue until `count` runs,
   * removes it, lets the last jobs run, and checks each run on the grid ran exactly once. Jobs are
   * deleted on completion, so a run fired twice would be added (and run) twice.
   */
  async function raceOn(queues: Array<Queue<string>>, id: string, startAt: number, count: number) {
    const first = queues[0] as Queue<string>;
    await first.schedule(id, { everyMs: 100, startAt, payload: 'x' });
    const seen: string[] = [];
    const workers = queues.map((q) =>
      createWorker(q, (job) => void seen.push(job.id), { pollIntervalMs: 50 }),
    );
    for (const w of workers) w.start();
    await waitFor(() => seen.length >= count, `${count} runs`, 8_000);
    await first.unschedule(id);
    await sleep(400); // fires still in flight land (and must do nothing)
    await waitFor(async () => {
      const c = await first.counts();
      return c.waiting + c.active === 0;
    }, 'the last runs');
    await Promise.all(workers.map((w) => w.stop()));
    expect(new Set(seen).size).toBe(seen.length);
    expect((await first.counts()).added).toBe(seen.length);
    for (const [i, t] of seen.map(runOf).sort(byTime).entries()) expect(t).toBe(startAt + i * 100);
  }

  it('enqueues each run once when 6 workers race on every due time', async () => {
    const name = `s${++n}`;
    await raceOn(
      Array.from({ length: 6 }, () => fresh<string>(name)),
      'race',
      Date.now() + 200,
      20,
    );
  });

  it('ignores a fire that arrives after the run was handled (a scheduler on a slow link)', async () => {
    // The second worker's fires reach Redis 350 ms after its read, when the first has handled that
    // run and the next three, whose jobs are done and deleted: honoring them would run them again.
    const name = `s${++n}`;
    const slow = createQueue<string>({ redis: delayingFires(redis, 350), prefix, name });
    await raceOn([fresh<string>(name), slow], 'slow-link', Date.now() + 200, 25);
  });

  it('updates a schedule (next run recomputed, new payload used) and removes it', async () => {
    const queue = fresh<string>();
    const first = await queue.schedule('s', { everyMs: 60_000, payload: 'v1' });
    expect(first.status).toBe('created');
    const moved = await queue.schedule('s', { everyMs: 200, payload: 'v2' });
    expect(moved.status).toBe('updated');
    expect(moved.nextRunAt).toBeLessThan((first.nextRunAt as number) - 50_000);
    expect(await queue.getSchedule('s')).toMatchObject({
      everyMs: 200,
      payload: 'v2',
      nextRunAt: moved.nextRunAt,
    });
    const payloads: string[] = [];
    const run = record(queue, payloads);
    await waitFor(() => payloads.length >= 2, '2 runs', 5_000);
    expect(new Set(payloads)).toEqual(new Set(['v2']));
    expect(await queue.unschedule('s')).toBe(true);
    const ran = payloads.length;
    await sleep(600);
    await run.stop();
    expect(payloads.length).toBeLessThanOrEqual(ran + 1); // at most a fire already in flight
    expect(await queue.getSchedule('s')).toBeUndefined();
    expect(await queue.schedules()).toEqual([]);
    expect(await queue.unschedule('s')).toBe(false);
  });

  it("'skip' drops the runs missed while no worker ran, and resumes on its grid", async () => {
    const queue = fresh<string>();
    const startAt = Date.now() - 10_500; // ten runs fell due before any worker started
    await queue.schedule('skip', { everyMs: 1000, startAt, payload: 'x', missed: 'skip' });
    const startedAt = Date.now();
    const run = record(queue);
    await waitFor(() => run.ids.length >= 1, 'a run after the gap', 4_000);
    await run.stop();
    const times = run.ids.map(runOf);
    for (const t of times) {
      expect(t).toBeGreaterThan(startedAt - 50);
      expect((t - startAt) % 1000).toBe(0);
    }
    expect((await queue.getSchedule('skip'))?.nextRunAt).toBeGreaterThan(Math.max(...times));
  });

  it("'once' replaces the missed runs with one job, then resumes on its grid", async () => {
    const queue = fresh<string>();
    const startAt = Date.now() - 10_500;
    await queue.schedule('once', { everyMs: 1000, startAt, payload: 'x', missed: 'once' });
    const startedAt = Date.now();
    const run = record(queue);
    await waitFor(() => run.ids.length >= 2, 'the catch-up run and one more', 4_000);
    await run.stop();
    const times = run.ids.map(runOf).sort(byTime);
    expect(times[0]).toBe(startAt); // one job, with the first missed run's id
    expect(times.filter((t) => t < startedAt - 50)).toEqual([startAt]);
    for (const t of times) expect((t - startAt) % 1000).toBe(0);
  });

  it('catches up run by run when workers are only a little behind (within missedAfterMs)', async () => {
    const queue = fresh<string>();
    const startAt = Date.now() - 1_000;
    await queue.schedule('late', { everyMs: 200, startAt, payload: 'x', missedAfterMs: 5_000 });
    const run = record(queue);
    await waitFor(() => run.ids.length >= 8, '8 runs', 5_000);
    await run.stop();
    const times = run.ids.map(runOf).sort(byTime);
    for (const [i, t] of times.entries()) expect(t).toBe(startAt + i * 200);
  });

  it('stops at endAt and lists an ended schedule last, without a next run', async () => {
    const queue = fresh<string>();
    const startAt = Date.now() + 200;
    await queue.schedule('ends', { everyMs: 150, startAt, endAt: startAt + 600, payload: 'x' });
    await queue.schedule('daily', { cron: '0 0 * * *', payload: 'y' });
    await queue.schedule('hourly', { cron: '30 * * * *', payload: 'z' });
    const run = record(queue);
    await waitFor(async () => (await queue.getSchedule('ends'))?.nextRunAt === undefined, 'the end', 5_000);
    await waitFor(() => run.ids.length === 4, 'the 4 runs before endAt', 2_000);
    await run.stop();
    expect(run.ids.map(runOf).sort(byTime)).toEqual([0, 1, 2, 3].map((k) => startAt + k * 150));
    const listed = await queue.schedules();
    // By next run, whichever comes first at this hour (between 23:30 and 00:00 UTC the daily run
    // does), then the ended one.
    const byNext = [...listed.slice(0, 2)].sort((a, b) => (a.nextRunAt ?? 0) - (b.nextRunAt ?? 0));
    expect(listed.slice(0, 2)).toEqual(byNext);
    expect(listed.map((s) => s.id).sort()).toEqual(['daily', 'ends', 'hourly']);
    expect(listed[2]?.id).toBe('ends');
    expect(listed[2]).toMatchObject({
      id: 'ends',
      everyMs: 150,
      startAt,
      endAt: startAt + 600,
      missed: 'skip',
    });
    expect(listed[2]?.nextRunAt).toBeUndefined();
  });

  it('refuses a bad schedule with InvalidArgumentError before writing anything', async () => {
    const queue = fresh<unknown>();
    const bad: Array<[string, unknown, unknown]> = [
      ['', { everyMs: 1000, payload: 1 }, 'id'],
      ['a'.repeat(1020), { everyMs: 1000, payload: 1 }, 'id'],
      ['s', null, 'options'],
      ['s', { payload: 1 }, 'options'],
      ['s', { cron: '* * * * *', everyMs: 1000, payload: 1 }, 'options'],
      ['s', { cron: '61 * * * *', payload: 1 }, 'cron'],
      ['s', { cron: 'every monday', payload: 1 }, 'cron'],
      ['s', { cron: '2030-01-01T00:00:00Z', payload: 1 }, 'cron'],
      ['s', { cron: '0 0 30 2 *', payload: 1 }, 'cron'],
      ['s', { cron: '* * * * *', tz: 'Mars/Olympus', payload: 1 }, 'tz'],
      ['s', { everyMs: 1000, tz: 'UTC', payload: 1 }, 'tz'],
      ['s', { everyMs: 99, payload: 1 }, 'everyMs'],
      ['s', { everyMs: 150.5, payload: 1 }, 'everyMs'],
      ['s', { everyMs: 1000, payload: undefined }, 'payload'],
      ['s', { everyMs: 1000, payload: 1, job: { id: 'x' } }, 'job.id'],
      ['s', { everyMs: 1000, payload: 1, job: { delayMs: 5 } }, 'job.delayMs'],
      ['s', { everyMs: 1000, payload: 1, job: { attempts: 0 } }, 'job.attempts'],
      ['s', { everyMs: 1000, payload: 1, missed: 'all' }, 'missed'],
      ['s', { everyMs: 1000, payload: 1, missedAfterMs: -1 }, 'missedAfterMs'],
      ['s', { everyMs: 1000, payload: 1, startAt: 2000, endAt: 1000 }, 'endAt'],
      ['s', { everyMs: 1000, payload: 1, startAt: 'tomorrow' }, 'startAt'],
    ];
    for (const [id, options, argument] of bad) {
      const call = queue.schedule(id, options as ScheduleOptions);
      await expect(call, JSON.stringify(options)).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(call).rejects.toMatchObject({ argument });
    }
    expect(await queue.schedules()).toEqual([]);
    const key = `${prefix}{${queue.name}}:schedules`;
    expect(await redis.send(['EXISTS', key], { key })).toBe(0);
  });
});
