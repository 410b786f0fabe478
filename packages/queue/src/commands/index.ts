/*
 * Every Redis command of the queue is sent from this module (src/commands/): the Lua scripts (bound
 * as `scripts.<name>` for src/lua/<name>.lua; keys.ts describes the key layout), a worker's BLMOVE with
 * the CLIENT ID and CLIENT UNBLOCK that wake it at stop, and the SCAN + UNLINK of a full purge. Each
 * function is one script call (or one command) with its arguments and reply in the script's own
 * layout; callers keep the policy: batch sizes, timers, retries, events.
 */
export { blockingClientId, blockingMove, leaseBlockingConnection, unblockClient } from './blocking.js';
export * from './events.js'; // the events stream: history switch, XREAD BLOCK, positions, catch-up
export {
  addJobs,
  cancelJob,
  configureQueue,
  countJobs,
  deleteQueueKeys,
  type InspectedJob,
  inspectJob,
  type ListedJob,
  listJobs,
  purgeJobs,
  readConfig,
  removeJob,
  retryDeadJobs,
} from './queue.js';
export * from './schedules.js'; // schedules: upsert (read + compare-and-set write), list, remove, fire
export { closeSubscriber, subscribeCancels } from './subscriber.js';
export {
  type ExchangeReply,
  type ExchangeRequest,
  exchange,
  type LeasedJob,
  promoteDelayed,
  type Rescue,
  recordProgress,
  releaseJobs,
  renewLeases,
  rescueStalled,
} from './worker.js';
