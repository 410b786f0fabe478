import { connect, type RedisConnection } from '@redis-patterns/connection';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, createQueueEvents, InvalidArgumentError, type Queue } from '../src/index.ts';
import { jobIds, killReaders, leftOver, liveResources, record, xadd, xaddMany } from './events-helpers.ts';
import { sleep, waitFor } from './helpers.ts';

// The subscriber against entries these tests append themselves (the format the scripts write).
describe.each(topologies())('queue events on $name', ({ url }) => {
  let redis: RedisConnection;
  const prefix = uniquePrefix('events');
  let n = 0;
  const fresh = (): { queue: Queue<unknown>; key: (part: string) => string } => {
    const name = `e${++n}`;
    return { queue: createQueue({ redis, prefix, name }), key: (part) => `${prefix}{${name}}:${part}` };
  };
  const add = (stream: string, fields: Record<string, string>) => xadd(redis, stream, fields);
  const addMany = (stream: string, from: number, count: number, maxLen: number) =>
    xaddMany(redis, stream, from, count, maxLen);

  beforeAll(async () => {
    redis = await connect({ url, commandTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('delivers every kind of event decoded, in stream order, each with its stream id', async () => {
    const { queue, key } = fresh();
    await using events = await createQueueEvents(queue);
    const seen = record(events);
    const ev = key('events');
    const ids = [
      await add(ev, { e: 'added', j: 'a' }),
      await add(ev, { e: 'active', j: 'a', a: '1' }),
      await add(ev, { e: 'progress', j: 'a', p: '{"pct":50}' }),
      await add(ev, { e: 'failed', j: 'a', x: 'Error: boom', a: '1' }),
      await add(ev, { e: 'retrying', j: 'a', a: '2', w: '250' }),
      await add(ev, { e: 'completed', j: 'a', r: '{"sum":3}' }),
      await add(ev, { e: 'completed', j: 'b', r: '' }),
      await add(ev, { e: 'dead', j: 'c', x: 'Error: no', dr: 'failed' }),
      await add(ev, { e: 'unknown-from-a-newer-version', j: 'c' }),
      await add(ev, { e: 'removed', j: 'd' }),
      await add(ev, { e: 'cancelled', j: 'e', x: 'AbortError: cancelled', dr: 'cancelled' }),
      await add(ev, { e: 'stalled', j: 'f', s: '2' }),
      await add(ev, { e: 'paused', j: '' }),
      await add(ev, { e: 'resumed', j: '' }),
    ];
    await waitFor(() => seen.length === 13, '13 events');
    expect(seen).toEqual([
      ['added', { eventId: ids[0], jobId: 'a' }],
      ['active', { eventId: ids[1], jobId: 'a', attempt: 1 }],
      ['progress', { eventId: ids[2], jobId: 'a', progress: { pct: 50 } }],
      ['failed', { eventId: ids[3], jobId: 'a', error: 'Error: boom', attempt: 1 }],
      ['retrying', { eventId: ids[4], jobId: 'a', attempt: 2, delayMs: 250 }],
      ['completed', { eventId: ids[5], jobId: 'a', result: { sum: 3 } }],
      ['completed', { eventId: ids[6], jobId: 'b', result: undefined }],
      ['dead', { eventId: ids[7], jobId: 'c', error: 'Error: no', reason: 'failed' }],
      ['removed', { eventId: ids[9], jobId: 'd' }],
      ['cancelled', { eventId: ids[10], jobId: 'e', error: 'AbortError: cancelled' }],
      ['stalled', { eventId: ids[11], jobId: 'f', stalls: 2 }],
      ['paused', { eventId: ids[12] }],
      ['resumed', { eventId: ids[13] }],
    ]);
    expect(events.lastEventId).toBe(ids[13]);
  });

  it("switches the queue's history on when it is off and leaves a history that is on alone", async () => {
    const { queue, key } = fresh();
    const ev = () => redis.send<string | null>(['HGET', key('config'), 'ev'], { key: key('config') });
    await (await createQueueEvents(queue, { maxLen: 0 })).close();
    expect(await ev()).toBeNull();
    await (await createQueueEvents(queue, { maxLen: 500 })).close();
    expect(await ev()).toBe('500');
    await (await createQueueEvents(queue)).close();
    expect(await ev()).toBe('500');
  });

  it("starts after the newest event with from: 'now', and after a saved id with from: id", async () => {
    const { queue, key } = fresh();
    const ev = key('events');
    const before = await add(ev, { e: 'added', j: 'old' });
    const saved = await add(ev, { e: 'added', j: 'saved' });
    await add(ev, { e: 'added', j: 'after-saved' });
    await using live = await createQueueEvents(queue);
    const liveSeen = record(live);
    await using resumed = await createQueueEvents(queue, { from: saved });
    const resumedSeen = record(resumed);
    await using replay = await createQueueEvents(queue, { from: '0-0' });
    const replaySeen = record(replay);
    await add(ev, { e: 'added', j: 'new' });
    await waitFor(
      () => liveSeen.length === 1 && resumedSeen.length === 2 && replaySeen.length === 4,
      'all three',
    );
    expect(jobIds(liveSeen)).toEqual(['new']);
    expect(jobIds(resumedSeen)).toEqual(['after-saved', 'new']);
    expect(jobIds(replaySeen)).toEqual(['old', 'saved', 'after-saved', 'new']);
    expect(replaySeen[0]?.[1].eventId).toBe(before);
  });

  it('resumes after its connection is killed (CLIENT KILL) from its last event: no gap, no duplicate', async () => {
    const { queue, key } = fresh();
    const ev = key('events');
    await using events = await createQueueEvents(queue, { blockMs: 10_000 });
    const seen = record(events);
    const errors: Error[] = [];
    events.on('error', (error) => errors.push(error));
    for (let i = 0; i < 5; i++) await add(ev, { e: 'added', j: `before-${i}` });
    await waitFor(() => seen.length === 5, 'the first 5');
    await sleep(50); // let it block again
    const killed = await killReaders(redis, ev);
    expect(killed).toBeGreaterThan(0);
    // Written while it is disconnected: it must read them after its last id when it is back.
    for (let i = 0; i < 5; i++) await add(ev, { e: 'added', j: `during-${i}` });
    await waitFor(() => errors.length > 0, 'the dropped read to be reported');
    for (let i = 0; i < 5; i++) await add(ev, { e: 'added', j: `after-${i}` });
    await waitFor(() => seen.length >= 15, 'all 15');
    await sleep(100);
    expect(jobIds(seen)).toEqual([
      ...[0, 1, 2, 3, 4].map((i) => `before-${i}`),
      ...[0, 1, 2, 3, 4].map((i) => `during-${i}`),
      ...[0, 1, 2, 3, 4].map((i) => `after-${i}`),
    ]);
  });

  it('reports exactly how many events were trimmed unread when it falls more than the history behind', async () => {
    const { queue, key } = fresh();
    const ev = key('events');
    await add(ev, { e: 'added', j: 'first' });
    await using events = await createQueueEvents(queue);
    const seen = record(events);
    await addMany(ev, 0, 50, 100); // within the history: no gap
    await waitFor(() => seen.length === 50, 'the first 50');
    // 250 more in one step with an exact MAXLEN of 100: k50..k199 are trimmed before it can read them.
    await addMany(ev, 50, 250, 100);
    await waitFor(() => seen.length === 151, 'the gap and the 100 kept events');
    expect(jobIds(seen.slice(0, 50))).toEqual(Array.from({ length: 50 }, (_, i) => `k${i}`));
    expect(seen[50]).toEqual(['gap', { afterEventId: seen[49]?.[1].eventId, missed: 150 }]);
    expect(jobIds(seen.slice(51))).toEqual(Array.from({ length: 100 }, (_, i) => `k${200 + i}`));
  });

  it('reports the exact loss after a dropped connection during which more than the history was written', async () => {
    const { queue, key } = fresh();
    const ev = key('events');
    await using events = await createQueueEvents(queue);
    const seen = record(events);
    events.on('error', () => {});
    await addMany(ev, 0, 10, 100);
    await waitFor(() => seen.length === 10, 'the first 10');
    await sleep(50);
    expect(await killReaders(redis, ev)).toBeGreaterThan(0);
    await addMany(ev, 10, 300, 100); // k10..k209 trimmed
    await waitFor(() => seen.length === 111, 'the gap and the 100 kept events');
    expect(seen[10]).toEqual(['gap', { afterEventId: seen[9]?.[1].eventId, missed: 200 }]);
    expect(jobIds(seen.slice(11))).toEqual(Array.from({ length: 100 }, (_, i) => `k${210 + i}`));
  });

  it('resumed from a saved id: no gap while the history reaches it, an unknown-size gap once it does not', async () => {
    const { queue, key } = fresh();
    const ev = key('events');
    const saved = await add(ev, { e: 'added', j: 'saved' });
    await addMany(ev, 0, 50, 100);
    const calm = await createQueueEvents(queue, { from: saved });
    const calmSeen = record(calm);
    await waitFor(() => calmSeen.length === 50, '50 events');
    await calm.close();
    expect(calmSeen.filter(([name]) => name === 'gap')).toEqual([]);
    await addMany(ev, 50, 250, 100); // trims `saved` and k0..k199
    await using late = await createQueueEvents(queue, { from: saved });
    const lateSeen = record(late);
    await using replay = await createQueueEvents(queue, { from: '0-0' });
    const replaySeen = record(replay);
    await waitFor(() => lateSeen.length === 101 && replaySeen.length === 100, 'both');
    expect(lateSeen[0]).toEqual(['gap', { afterEventId: saved, missed: undefined }]);
    expect(jobIds(lateSeen.slice(1))).toEqual(Array.from({ length: 100 }, (_, i) => `k${200 + i}`));
    // A replay from the start takes what is kept: no gap.
    expect(jobIds(replaySeen)).toEqual(Array.from({ length: 100 }, (_, i) => `k${200 + i}`));
  });

  it('close() ends a pending read at once, twice is fine, and no handle stays open', async () => {
    const baseline = liveResources();
    const own = await connect({ url, commandTimeoutMs: 2_000 });
    const queue = createQueue({ redis: own, prefix, name: `e${++n}` });
    const events = await createQueueEvents(queue, { blockMs: 30_000 });
    events.on('error', () => {});
    await sleep(200); // its XREAD BLOCK is pending
    const started = performance.now();
    await events.close();
    await events.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    await queue.close();
    await own.close();
    expect(await leftOver(baseline)).toEqual([]);
  });

  it('ends with a ClosedError event when its connection is closed under it, leaving no handle', async () => {
    const baseline = liveResources();
    const own = await connect({ url, commandTimeoutMs: 2_000 });
    const queue = createQueue({ redis: own, prefix, name: `e${++n}` });
    const events = await createQueueEvents(queue, { blockMs: 30_000 });
    const errors: Error[] = [];
    events.on('error', (error) => errors.push(error));
    await sleep(200);
    await own.close();
    await waitFor(() => errors.some((e) => e.name === 'ClosedError'), 'a ClosedError', 5_000);
    await events.close();
    expect(await leftOver(baseline)).toEqual([]);
  });

  it('refuses bad options with InvalidArgumentError before writing anything', async () => {
    const { queue, key } = fresh();
    for (const options of [{ from: 'yesterday' }, { maxLen: -1 }, { maxLen: 1.5 }, { blockMs: 0 }, null]) {
      await expect(createQueueEvents(queue, options as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(await redis.send(['EXISTS', key('config')], { key: key('config') })).toBe(0);
  });
});
