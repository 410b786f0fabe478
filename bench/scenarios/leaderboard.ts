import { connect, defineScript } from '@redis-patterns/connection';
import { ScriptBatcher } from '@redis-patterns/connection/internal';
import { createLeaderboard, type LeaderboardOptions } from '@redis-patterns/leaderboard';
import { Redis } from 'ioredis';
import { Leaderboard as RedisRankLeaderboard } from 'redis-rank';
import { type BenchContext, defineScenario, type Row, type Runner } from '../scenario.ts';

const MEMBERS = 10_000;
const peerKey = 'bench:lb:redis-rank';
const prefix = 'bench:lb:';
/** The same game board on both sides: highest score first, a member keeps its best score. */
const ours: Omit<LeaderboardOptions, 'redis'> = {
  prefix,
  name: 'ours',
  order: 'high-to-low',
  updatePolicy: 'best',
};
/** Our board with shared ranks for equal scores and arrival order among them: what the peer cannot do. */
const oursTied: Omit<LeaderboardOptions, 'redis'> = {
  ...ours,
  name: 'ours-tied',
  ties: 'competition',
  tieBreak: 'earlier-first',
};

const member = (i: number) => `player:${(i * 7919) % MEMBERS}`;
/** Deterministic scores with plenty of ties (1,000 distinct values for 10,000 members). */
const score = (i: number) => ((i * 104_729) % 1_000) * 10;

type Op = 'submit' | 'rank' | 'top-10' | 'around(5)';

async function redisRank(url: string, op: Op): Promise<Runner> {
  const client = new Redis(url);
  client.on('error', (error) => console.error('ioredis:', error));
  await client.ping();
  const board = new RedisRankLeaderboard(client, peerKey, {
    sortPolicy: 'high-to-low',
    updatePolicy: 'best',
  });
  const run: Record<Op, (i: number) => Promise<unknown>> = {
    submit: (i) => board.updateOne(member(i), score(i + 1)),
    rank: (i) => board.rank(member(i)),
    'top-10': () => board.top(10),
    'around(5)': (i) => board.around(member(i), 5, true),
  };
  return { op: run[op], close: async () => void (await client.quit()) };
}

async function ourBoard(url: string, op: Op, options: Omit<LeaderboardOptions, 'redis'>): Promise<Runner> {
  const redis = await connect({ url });
  const board = createLeaderboard({ ...options, redis });
  const run: Record<Op, (i: number) => Promise<unknown>> = {
    submit: (i) => board.submit(member(i), score(i + 1)),
    rank: (i) => board.rank(member(i)),
    'top-10': () => board.top(10),
    'around(5)': (i) => board.around(member(i), 5, { fillBorders: true }),
  };
  return { op: run[op], close: () => redis.close() };
}

/**
 * The least any one-round-trip around can cost on Redis 7.0 (no ZRANK ... WITHSCORE before 7.2):
 * one Lua call that runs ZRANK and ZRANGE WITHSCORES and returns the raw window, arounds of one tick
 * gathered 25 to a call, the reply left undecoded. No member data, tie rules or border filling;
 * what Redis spends converting the window to Lua and back is the floor. It is the ceiling of the
 * around rows: an implementation with one round trip per around cannot beat it here.
 */
const bareArounds = defineScript(
  'benchBareArounds',
  `local out = {}
for i = 1, #ARGV do
  local index = redis.call('ZRANK', KEYS[1], ARGV[i])
  out[i] = redis.call('ZRANGE', KEYS[1], math.max(0, index - 5), math.max(0, index - 5) + 10, 'WITHSCORES')
end
return out`,
);

async function aroundCeiling(url: string): Promise<Runner> {
  const redis = await connect({ url });
  const key = `${prefix}{ours}:scores`;
  // The same batching as the board's (ScriptBatcher): the bare script serves one call or 25.
  const arounds = new ScriptBatcher<string, unknown>(redis, {
    single: bareArounds,
    batch: bareArounds,
    max: 25,
    keyOf: () => key,
    argsOf: (members) => ({ keys: [key], args: [...members] }),
    layout: { first: 0, slots: 1 },
    decode: (reply, at) => (reply as unknown[])[at],
    readonly: true,
  });
  return {
    op: (i) => arounds.call(member(i)),
    close: () => redis.close(),
  };
}

const ops: Op[] = ['submit', 'rank', 'top-10', 'around(5)'];
const rows: Row[] = ops.flatMap((op): Row[] => [
  { name: `redis-rank ${op}`, peer: true, group: op, make: ({ url }) => redisRank(url, op) },
  { name: `ours ${op}`, peer: false, group: op, make: ({ url }) => ourBoard(url, op, ours) },
]);
rows.push(
  {
    name: 'ours rank (competition, earlier-first)',
    peer: false,
    group: 'rank',
    make: ({ url }) => ourBoard(url, 'rank', oursTied),
  },
  {
    name: 'ours around(5) (competition, earlier-first)',
    peer: false,
    group: 'around(5)',
    make: ({ url }) => ourBoard(url, 'around(5)', oursTied),
  },
  {
    name: 'ceiling: bare Lua around (ZRANK + ZRANGE, 25 a call, raw reply)',
    peer: false,
    group: 'around(5)',
    make: ({ url }) => aroundCeiling(url),
  },
);

export default defineScenario({
  name: 'leaderboard',
  description:
    `${MEMBERS.toLocaleString('en-US')} members, high-to-low, best score kept; around with fillBorders. ` +
    'Each of our rows is compared with redis-rank doing the same operation. ' +
    'cmds/op counts the script and the commands it runs; every op of ours is one round trip.',
  inflight: [1, 50],
  async setup({ url }: BenchContext) {
    const redis = await connect({ url, commandTimeoutMs: 60_000 });
    const client = new Redis(url);
    try {
      const entries = Array.from({ length: MEMBERS }, (_, i) => ({ member: `player:${i}`, score: score(i) }));
      for (const options of [ours, oursTied])
        await createLeaderboard({ ...options, redis }).submitMany(entries);
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
