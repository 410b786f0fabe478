// Everything a README example needs comes from this package alone: the connection and every error it can throw.
export {
  ClosedError,
  ConnectionError,
  type ConnectionOptions,
  connect,
  InvalidArgumentError,
  jsonSerializer,
  OwnershipLostError,
  type RedisConnection,
  type RedisLike,
  RedisPatternsError,
  type RedisPatternsErrorCode,
  type Serializer,
  TimeoutError,
  toConnection,
} from '@redis-patterns/connection';
export type { AddResult, JobInfo, JobState, QueueCounts } from './jobs.js';
export type {
  Backoff,
  ExponentialBackoff,
  FixedBackoff,
  JobOptions,
  QueueOptions,
  Retention,
} from './options.js';
export { createQueue, type Queue } from './queue.js';
export {
  type ActiveJob,
  createWorker,
  type JobHandler,
  type StopOptions,
  type Worker,
  type WorkerEvents,
  type WorkerOptions,
} from './worker.js';
