import { createLeaderboard, createPeriodicLeaderboard } from '@redis-patterns/leaderboard';
import { type DemoScenario, expectThat } from './scenario.ts';

type Player = { nick: string };

export const leaderboardDemo: DemoScenario = {
  name: 'leaderboard',
  title: 'Leaderboard: a game board with shared ranks, first-come ties and a daily board that expires',
  async run({ redis, log }) {
    const prefix = `demo:${process.pid}:lb:`;
    // Best score kept; equal scores share a rank (1, 2, 2, 4) and are listed by who got there first.
    const board = createLeaderboard<Player>({
      redis,
      prefix,
      name: 'arcade',
      updatePolicy: 'best',
      ties: 'competition',
      tieBreak: 'earlier-first',
    });
    // The all-time board has no TTL: remove it whatever happens (the daily one expires by itself).
    try {
      const players: Array<[string, string, number]> = [
        ['u1', 'ada', 9_800],
        ['u2', 'bo', 7_200],
        ['u3', 'cy', 8_450],
        ['u4', 'dee', 9_800],
        ['u5', 'eli', 6_100],
        ['u6', 'fay', 8_450],
        ['u7', 'gus', 5_000],
        ['u8', 'kim', 7_750],
        ['u9', 'lou', 6_900],
        ['u10', 'max', 4_300],
      ];
      for (const [member, nick, score] of players) await board.submit(member, score, { data: { nick } });
      log(`${players.length} players submitted a score; ada reached 9,800 before dee did.`);

      const kept = await board.submit('u3', 3_000);
      log(`cy submits a worse run (3,000): the board keeps cy's best, ${kept?.toLocaleString('en-US')}.`);
      expectThat(kept === 8_450, `best policy kept ${kept}, expected 8450`);

      const top = await board.top(5, { withData: true });
      log('Top 5 (one round trip, names included):');
      for (const e of top) log(`  #${e.rank}  ${e.data?.nick.padEnd(4)} ${e.score.toLocaleString('en-US')}`);
      expectThat(
        top.map((e) => `${e.rank}:${e.data?.nick}`).join(' ') === '1:ada 1:dee 3:cy 3:fay 5:kim',
        `top 5 came back as ${top.map((e) => `${e.rank}:${e.data?.nick}`).join(' ')}`,
      );

      const around = await board.around('u9', 2, { fillBorders: true, withData: true });
      log(`lou's neighbours: ${around.map((e) => `#${e.rank} ${e.data?.nick} (${e.score})`).join(', ')}`);
      const percentile = await board.percentile('u9');
      log(
        `lou is ranked ${await board.rank('u9')} of ${await board.count()}: better than ${percentile}% of players.`,
      );
      expectThat(
        around.map((e) => e.data?.nick).join(',') === 'kim,bo,lou,eli,gus',
        `around lou returned ${around.map((e) => e.data?.nick).join(',')}`,
      );
      expectThat(percentile === 30, `lou's percentile is ${percentile}, expected 30`);

      // A daily board: today's keys expire at midnight UTC by themselves (keepCycles 0).
      const daily = createPeriodicLeaderboard<Player>({
        redis,
        prefix,
        name: 'arcade-daily',
        cycle: 'daily',
        keepCycles: 0,
      });
      await daily.increment('u8', 300);
      await daily.increment('u8', 200);
      await daily.increment('u2', 400);
      const today = daily.current();
      const dailyTop = await today.top(3);
      log(
        `Daily board ${today.cycle.id}: ${dailyTop.map((e) => `${e.member}=${e.score}`).join(', ')}; ` +
          `its keys expire at ${today.expiresAt.toISOString()}.`,
      );
      expectThat(
        dailyTop[0]?.member === 'u8' && dailyTop[0].score === 500,
        'the daily board did not add increments',
      );
      await today.clear();
    } finally {
      await board.clear();
    }
  },
};
