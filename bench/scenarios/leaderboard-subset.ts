import { connect } from '@redis-patterns/connection';
import {
  createLeaderboard,
  createLeaderboardMatrix,
  type LeaderboardOptions,
} from '@redis-patterns/leaderboard';
import { Redis } from 'ioredis';
import { Leaderboard as RedisRankLeaderboard, LeaderboardMatrix as RedisRankMatrix } from 'redis-rank';
import { type BenchContext, defineScenario, type Row, type Runner } from '../scenario.ts';

const MEMBERS = 10_000;
const FRIENDS = 200;
const prefix = 'bench:lbs:';
const peerKey = 'bench:lbs:redis-rank';
const ours: Omit<LeaderboardOptions, 'redis'> = {
  prefix,
  name: 'ours',
  order: 'high-to-low',
  updatePolicy: 'best',
};

const member = (i: number) => `player:${(i * 7919) % MEMBERS}`;
/** Deterministic scores with plenty of ties (1,000 distinct values for 10,000 members). */
const score = (i: number) => ((i * 104_729) % 1_000) * 10;
/** The friends of player i: FRIENDS members spread over the board, a different set per i. */
const friendsOf = (i: number) => Array.from({ length: FRIENDS }, (_, j) => member(i * 31 + j * 47 + 1));

/**
 * What a redis-rank user writes for "me among my friends": one score read per friend (sent in one
 * write by ioredis), then a sort, the rank and the window in the client.
 */
async function peerAmong(url: string): Promise<Runner> {
  const client = new Redis(url);
  client.on('error', (error) => console.error('ioredis:', error));
  const board = new RedisRankLeaderboard(client, peerKey, {
    sortPolicy: 'high-to-low',
    updatePolicy: 'best',
  });
  return {
    async op(i) {
      const me = member(i);
      const set = [me, ...friendsOf(i)];
      const scores = await Promise.all(set.map((id) => board.score(id)));
      const ranked = set
        .map((id, j) => ({ id, score: scores[j] }))
        .filter((e): e is { id: string; score: number } => e.score !== null && e.score !== undefined)
        .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
      const at = ranked.findIndex((e) => e.id === me);
      return { top: ranked.slice(0, 10), around: ranked.slice(Math.max(0, at - 2), at + 3) };
    },
    close: async () => void (await client.quit()),
  };
}

async function oursAmong(url: string): Promise<Runner> {
  const redis = await connect({ url });
  const board = createLeaderboard({ ...ours, redis });
  return {
    op: (i) => board.among(friendsOf(i), { member: member(i), radius: 2, top: 10 }),
    close: () => redis.close(),
  };
}

/** The least any implementation can ask of Redis: one ZMSCORE of the set, nothing sorted or ranked. */
async function zmscoreCeiling(url: string): Promise<Runner> {
  const redis = await connect({ url });
  const key = `${prefix}{ours}:scores`;
  return {
    op: (i) => redis.send(['ZMSCORE', key, member(i), ...friendsOf(i)], { key, readonly: true }),
    close: () => redis.close(),
  };
}

/** Four boards: all-time and weekly, each with the best score and the total. */
async function peerMatrix(url: string): Promise<Runner> {
  const client = new Redis(url);
  client.on('error', (error) => console.error('ioredis:', error));
  const matrix = new RedisRankMatrix(client, 'bench:lbs:rr-matrix', {
    dimensions: [{ name: 'global' }, { name: 'weekly', cycle: 'weekly' }],
    features: [
      { name: 'best', options: { sortPolicy: 'high-to-low', updatePolicy: 'best' } },
      { name: 'total', options: { sortPolicy: 'high-to-low', updatePolicy: 'aggregate' } },
    ],
  });
  return {
    op: (i) => matrix.update({ id: member(i), values: { best: score(i), total: score(i) } }),
    close: async () => void (await client.quit()),
  };
}

async function oursMatrix(url: string): Promise<Runner> {
  const redis = await connect({ url });
  const matrix = createLeaderboardMatrix({
    redis,
    prefix,
    name: 'matrix',
    boards: {
      best: { updatePolicy: 'best' },
      total: { updatePolicy: 'increment' },
      weeklyBest: { updatePolicy: 'best', cycle: 'weekly' },
      weeklyTotal: { updatePolicy: 'increment', cycle: 'weekly' },
    },
  });
  return { op: (i) => matrix.submit(member(i), score(i)), close: () => redis.close() };
}

const rows: Row[] = [
  {
    name: `redis-rank: ${FRIENDS} score reads + client sort`,
    peer: true,
    group: 'among',
    make: ({ url }) => peerAmong(url),
  },
  {
    name: `ours among(${FRIENDS} friends, radius 2, top 10)`,
    peer: false,
    group: 'among',
    make: ({ url }) => oursAmong(url),
  },
  {
    name: `ceiling: one ZMSCORE of ${FRIENDS + 1} members, unsorted`,
    peer: false,
    group: 'among',
    make: ({ url }) => zmscoreCeiling(url),
  },
  {
    name: 'redis-rank LeaderboardMatrix update (2×2)',
    peer: true,
    group: 'matrix',
    make: ({ url }) => peerMatrix(url),
  },
  { name: 'ours matrix submit (4 boards)', peer: false, group: 'matrix', make: ({ url }) => oursMatrix(url) },
];

export default defineScenario({
  name: 'leaderboard-subset',
  description:
    `${MEMBERS.toLocaleString('en-US')} members, high-to-low. among: a member among ${FRIENDS} friends ` +
    '(its rank, 2 neighbours each side and the top 10 of the set). matrix: one score to 4 boards ' +
    '(all-time and weekly, best and total); ours is one atomic script, redis-rank one pipeline.',
  inflight: [1, 50],
  async setup({ url }: BenchContext) {
    const redis = await connect({ url, commandTimeoutMs: 60_000 });
    const client = new Redis(url);
    try {
      const entries = Array.from({ length: MEMBERS }, (_, i) => ({ member: `player:${i}`, score: score(i) }));
      await createLeaderboard({ ...ours, redis }).submitMany(entries);
      const peer = new RedisRankLeaderboard(client, peerKey, {
        sortPolicy: 'high-to-low',
        updatePolicy: 'best',
      });
      await peer.update(entries.map((e) => ({ id: e.member, value: e.score })));
    } finally {
      await redis.close();
      await client.quit();
    }
  },
  rows,
});
