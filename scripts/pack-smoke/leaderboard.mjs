// Runs in a fresh project where only the packed tarballs and `redis` are installed.
import { connect, createLeaderboard } from '@redis-patterns/leaderboard';

const redis = await connect({ url: process.env.REDIS_URL });
const board = createLeaderboard({ redis, name: `smoke-${process.pid}`, ties: 'competition' });
await board.submit('ada', 300);
await board.submit('bob', 500);
await board.submit('cy', 300);
const ranks = await board.rankedList(['bob', 'ada', 'cy']);
await board.clear();
await redis.close();
const got = ranks.map((e) => e?.rank).join(',');
if (got !== '1,2,2') throw new Error(`ranks ${got}`);
console.log('submit, competition ranks 1,2,2, clear');
