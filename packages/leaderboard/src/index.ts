// Everything a README example needs comes from this package alone: the connection and every error it can throw.
export {
  ClosedError,
  ConnectionError,
  type ConnectionOptions,
  connect,
  InvalidArgumentError,
  type RedisConnection,
  type RedisLike,
  RedisPatternsError,
  type RedisPatternsErrorCode,
  TimeoutError,
  toConnection,
} from '@redis-patterns/connection';
export { type Cycle, type CycleFunction, type CycleName, utcCycles } from './cycles.js';
export {
  type BoardFormat,
  createLeaderboardInspector,
  type InspectReadOptions,
  type LeaderboardInspector,
  type LeaderboardInspectorOptions,
  type LeaderboardPage,
  type LeaderboardPageOptions,
  type MemberNeighbourhood,
} from './inspect.js';
export type { BoardLocation, BoardRef, InspectedBoard } from './inspect-layout.js';
export { createLeaderboard } from './leaderboard.js';
export { createLeaderboardMatrix } from './matrix.js';
export type {
  LeaderboardMatrix,
  LeaderboardMatrixOptions,
  MatrixBoardOptions,
  MatrixReadOptions,
  MatrixWriteOptions,
} from './matrix-types.js';
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
  AmongOptions,
  AroundOptions,
  IterateOptions,
  Leaderboard,
  LeaderboardEntry,
  ReadOptions,
  ScoreRangeOptions,
  Submission,
  SubsetStanding,
  WriteOptions,
} from './types.js';
