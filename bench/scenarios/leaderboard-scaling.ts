import { connect } from '@redis-patterns/connection';
import { createLeaderboard, type LeaderboardOptions } from '@redis-patterns/leaderboard';
import { type BenchContext, defineScenario, type Row, type Runner } from '../scenario.ts';

const sizes = [10_000, 100_000, 1_000_000];
const prefix = 'bench:lb-scaling:';
const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1_000}k`);
/** A plain board (ZRANK / one script) and the costliest ranks: dense ties over an arrival tie-break. */
const kinds: Record<string, Omit<LeaderboardOptions, 'redis' | 'name'>> = {
  ordinal: { prefix },
  'dense, earlier-first': { prefix, ties: 'dense', tieBreak: 'earlier-first' },
};
const nameOf = (kind: string, n: number) => `${kind.replace(/[^a-z]+/g, '-')}-${n}`;
const member = (i: number, n: number) => `player:${(i * 7919) % n}`;
/** Integer scores with ties (n / 10 distinct values), so the dense index has real work. */
const score = (i: number, n: number) => (i * 104_729) % Math.max(10, n / 10);

async function runner(url: string, kind: string, n: number, op: 'rank' | 'around(5)'): Promise<Runner> {
  const redis = await connect({ url });
  const board = createLeaderboard({ ...kinds[kind], redis, name: nameOf(kind, n) });
  return {
    op:
      op === 'rank'
        ? (i) => board.rank(member(i, n))
        : (i) => board.around(member(i, n), 5, { fillBorders: true }),
    close: () => redis.close(),
  };
}

const rows: Row[] = [];
for (const kind of Object.keys(kinds)) {
  for (const op of ['rank', 'around(5)'] as const) {
    for (const n of sizes) {
      rows.push({
        name: `${op} (${kind}) @${label(n)}`,
        peer: false,
        make: ({ url }) => runner(url, kind, n, op),
      });
    }
  }
}

export default defineScenario({
  name: 'leaderboard-scaling',
  description:
    'p50 of rank and around(member, 5) at 10k, 100k and 1M members, 1 in flight: every rank and window is O(log n) ' +
    '(dense ranks through the distinct-score index).',
  inflight: [1],
  async setup({ url }: BenchContext) {
    const redis = await connect({ url, commandTimeoutMs: 120_000 });
    try {
      for (const kind of Object.keys(kinds)) {
        for (const n of sizes) {
          const board = createLeaderboard({ ...kinds[kind], redis, name: nameOf(kind, n) });
          for (let start = 0; start < n; start += 10_000) {
            const batch = Array.from({ length: Math.min(10_000, n - start) }, (_, j) => ({
              member: `player:${start + j}`,
              score: score(start + j, n),
            }));
            await board.submitMany(batch);
          }
        }
      }
    } finally {
      await redis.close();
    }
  },
  rows,
});
