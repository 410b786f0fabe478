// The conformance suite every pattern runs (see @redis-patterns/testing): the leaderboard, and its
// matrix of boards written together.
import { connect, createLeaderboard, createLeaderboardMatrix } from '@redis-patterns/leaderboard';
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

describeConformance({
  name: 'leaderboard matrix',
  connect,
  create: (redis, prefix) =>
    createLeaderboardMatrix({
      redis,
      prefix,
      name: 'm',
      boards: { best: { updatePolicy: 'best' }, weekly: { updatePolicy: 'increment', cycle: 'weekly' } },
    }),
  write: (matrix) => matrix.submit('m', 1),
  read: (matrix) => matrix.entry('m'),
  badInput: {
    'submit(NaN)': (matrix) => matrix.submit('m', Number.NaN),
    "submit('')": (matrix) => matrix.submit('', 1),
    "submit(boards: ['nope'])": (matrix) => matrix.submit('m', 1, { boards: ['nope'] }),
  },
});
