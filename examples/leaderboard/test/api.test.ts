import type { AddressInfo } from 'node:net';
import { connect, type RedisConnection } from '@redis-patterns/leaderboard';
import { topologies, uniquePrefix } from '@redis-patterns/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGameApi } from '../src/app.ts';

describe.each(topologies())('leaderboard API example on $name', ({ url }) => {
  let redis: RedisConnection;
  let base: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    redis = await connect({ url });
    const server = createGameApi(redis, uniquePrefix('game').replace(/:$/, ''));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((ok) => server.close(() => ok()));
  });
  afterAll(async () => {
    await close();
    await redis.close();
  });

  const post = (body: unknown) =>
    fetch(`${base}/scores`, { method: 'POST', body: JSON.stringify(body) }).then(async (r) => ({
      status: r.status,
      body: await r.json(),
    }));

  it('keeps each player best score, ranks ties together with the earlier achiever first', async () => {
    for (const [player, score] of [
      ['ada', 300],
      ['bob', 500],
      ['cy', 300],
      ['ada', 100], // worse than her best: ignored
      ['dee', 700],
    ] as const) {
      expect((await post({ player, nick: player.toUpperCase(), score })).status).toBe(201);
    }
    const top = (await (await fetch(`${base}/top`)).json()) as Array<{
      member: string;
      rank: number;
      score: number;
      data: { nick: string };
    }>;
    expect(top.map((e) => [e.member, e.rank, e.score])).toEqual([
      ['dee', 1, 700],
      ['bob', 2, 500],
      ['ada', 3, 300],
      ['cy', 3, 300],
    ]);
    expect(top[0]?.data).toEqual({ nick: 'DEE' });

    const weekly = (await (await fetch(`${base}/top?board=weekly`)).json()) as Array<{ member: string }>;
    expect(weekly.map((e) => e.member)).toEqual(['dee', 'bob', 'ada', 'cy']);

    const me = (await (await fetch(`${base}/players/cy`)).json()) as {
      me: { rank: number };
      around: Array<{ member: string }>;
    };
    expect(me.me.rank).toBe(3);
    expect(me.around.map((e) => e.member)).toEqual(['dee', 'bob', 'ada', 'cy']);
  });

  it('answers 400 for a bad score and 404 for an unknown player, writing nothing', async () => {
    expect((await post({ player: 'eve', nick: 'EVE', score: Number.NaN })).status).toBe(400);
    const res = await fetch(`${base}/scores`, { method: 'POST', body: 'not json' });
    expect(res.status).toBe(400);
    expect((await fetch(`${base}/players/eve`)).status).toBe(404);
  });
});
