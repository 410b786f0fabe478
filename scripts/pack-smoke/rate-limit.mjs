// Runs in a fresh project where only the packed tarballs and `redis` are installed.
import { connect, createRateLimiter, fixedWindow, rateLimitHeaders } from '@redis-patterns/rate-limit';

const redis = await connect({ url: process.env.REDIS_URL });
const limiter = createRateLimiter({
  redis,
  prefix: 'smoke:rl:',
  algorithm: fixedWindow({ limit: 3, windowMs: 10_000 }),
});
const id = `smoke-${process.pid}`;
const results = [];
for (let i = 0; i < 5; i++) results.push(await limiter.limit(id));
await limiter.reset(id);
await redis.close();
const allowed = results.filter((r) => r.allowed).length;
const headers = rateLimitHeaders(results[4]);
if (allowed !== 3 || results[4].retryAfterMs <= 0 || Object.keys(headers).length === 0) {
  throw new Error(`allowed ${allowed}, last ${JSON.stringify(results[4])}`);
}
console.log('3 of 5 allowed, headers for the refusal');
