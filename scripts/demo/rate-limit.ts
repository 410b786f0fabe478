import {
  createRateLimiter,
  RATELIMIT_HEADERS_DRAFT,
  rateLimitHeaders,
  slidingWindowLog,
} from '@redis-patterns/rate-limit';
import { type DemoScenario, expectThat } from './scenario.ts';

export const rateLimitTour: DemoScenario = {
  name: 'rate-limit',
  title: 'Rate limit: a burst of 15 calls against 10 per second',
  async run({ redis, log }) {
    const limiter = createRateLimiter({
      redis,
      prefix: `demo:${process.pid}:rl:`,
      name: 'per-second',
      algorithm: slidingWindowLog({ limit: 10, windowMs: 1000 }),
    });
    const caller = 'api-key-123';

    // Fired together: the check and the charge are one Lua call, so no burst slips through.
    const results = await Promise.all(Array.from({ length: 15 }, () => limiter.limit(caller)));
    const allowed = results.filter((r) => r.allowed);
    log(
      `15 concurrent calls → ${allowed.length} allowed, ${15 - allowed.length} refused ` +
        `(${results.map((r) => (r.allowed ? '✓' : '✗')).join('')})`,
    );
    expectThat(allowed.length === 10, `${allowed.length} calls were allowed, expected 10`);

    const refused = results.find((r) => !r.allowed);
    expectThat(refused !== undefined, 'no call was refused');
    log(`A refused call may retry in ${refused.retryAfterMs} ms; its 429 response would carry:`);
    for (const [name, value] of Object.entries(rateLimitHeaders(refused))) log(`  ${name}: ${value}`);
    log(`(header fields per ${RATELIMIT_HEADERS_DRAFT})`);
    expectThat(refused.retryAfterMs > 0 && refused.retryAfterMs <= 1000, 'retry-after outside (0, 1000] ms');

    // Refused calls were not charged: once the window has passed, the caller is let in again.
    await new Promise((resolve) => setTimeout(resolve, refused.retryAfterMs + 10));
    const again = await limiter.limit(caller);
    log(
      `After ${refused.retryAfterMs + 10} ms: ${again.allowed ? 'allowed' : 'refused'}, ${again.remaining} left`,
    );
    expectThat(again.allowed, 'the caller was still refused after its retry-after');
    await limiter.reset(caller);
  },
};
