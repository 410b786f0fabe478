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
export {
  type Algorithm,
  type AlgorithmKind,
  fixedWindow,
  slidingWindowCounter,
  slidingWindowLog,
  type TokenBucket,
  type TokenBucketOptions,
  tokenBucket,
  type WindowOptions,
} from './algorithms.js';
export type { LocalBlockCacheOptions } from './block-cache.js';
export { createExpressRateLimit, type ExpressLikeRequest, rateLimitExpress } from './express.js';
export {
  createFastifyRateLimit,
  type FastifyLikeReply,
  type FastifyLikeRequest,
  rateLimitFastify,
} from './fastify.js';
export { RATELIMIT_HEADERS_DRAFT, rateLimitHeaders } from './headers.js';
export { createHonoRateLimit, type HonoLikeContext, rateLimitHono } from './hono.js';
export { createHttpGuard, type HttpDecision, type HttpRateLimitOptions } from './http.js';
export {
  createRateLimitInspector,
  type RateLimitGetOptions,
  type RateLimitInspector,
  type RateLimitInspectorOptions,
  type RateLimitKey,
  type RateLimitPage,
  type RateLimitPageOptions,
} from './inspect.js';
export type {
  AlgorithmState,
  BlockState,
  CounterState,
  FixedWindowState,
  IdentifierState,
  LogState,
  TokenBucketState,
} from './inspect-state.js';
export { ipKey } from './ip.js';
export {
  type AdjustOptions,
  type AllOptions,
  all,
  createRateLimiter,
  type FailMode,
  type LimitOptions,
  type RateLimiter,
  type RateLimiterOptions,
  type RefundOptions,
} from './limiter.js';
export { createNodeRateLimit, rateLimitNode } from './node.js';
export {
  FAIL_CLOSED_RETRY_MS,
  type Policy,
  type PolicyResult,
  type RateLimitResult,
} from './result.js';
