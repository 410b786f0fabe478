// The conformance suite every pattern runs (see @redis-patterns/testing): the leaderboard.
import { connect, createLeaderboard } from '@redis-patterns/leaderboard';
import { describeConformance } from '@redis-patterns/testing';

describeConformance({
  name: 'leaderboard',
  connect,
  create: (redis, prefix) => createLeaderboard({ redis, prefix, name: 'b' }),
  write: (board) => board.submit('m', 1),
  read: (board) => board.score('m'),
  badInput: {
    'submit(NaN)': (board) => board.submit('m', Number.NaN),
    "submit('')": (board) => board.submit('', 1),
    'top(-1)': (board) => board.top(-1),
  },
});
