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
export { JobCancelledError, JobFailedError, JobTimeoutError } from './errors.js';
export type {
  DeadReason,
  EventGap,
  JobActiveEvent,
  JobCancelledEvent,
  JobCompletedEvent,
  JobDeadEvent,
  JobEvent,
  JobFailedEvent,
  JobProgressEvent,
  JobRetryingEvent,
  JobStalledEvent,
  QueueEventMap,
  QueueEventName,
  QueueStateEvent,
} from './event-types.js';
export { createQueueEvents, type QueueEvents, type QueueEventsOptions } from './events.js';
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
export type { CancelResult, JobPage, QueueLimits, RateLimit, RemoveResult } from './queue-admin.js';
export type {
  QueueSchedules,
  ScheduleInfo,
  ScheduleJobOptions,
  ScheduleOptions,
  ScheduleResult,
} from './schedules.js';
export type { WaitOptions } from './wait.js';
export {
  type ActiveJob,
  createWorker,
  type JobHandler,
  type StopOptions,
  type Worker,
  type WorkerEvents,
  type WorkerOptions,
} from './worker.js';
