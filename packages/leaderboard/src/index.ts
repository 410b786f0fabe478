export { type Cycle, type CycleFunction, type CycleName, utcCycles } from './cycles.js';
export { createLeaderboard } from './leaderboard.js';
export type {
  LeaderboardOptions,
  LeaderboardOrder,
  TieBreak,
  TieRule,
  UpdatePolicy,
} from './options.js';
export {
  type AggregateOptions,
  type CycleLeaderboard,
  createPeriodicLeaderboard,
  type PeriodicLeaderboard,
  type PeriodicLeaderboardOptions,
} from './periodic.js';
export type {
  AroundOptions,
  IterateOptions,
  Leaderboard,
  LeaderboardEntry,
  ReadOptions,
  ScoreRangeOptions,
  Submission,
  WriteOptions,
} from './types.js';
