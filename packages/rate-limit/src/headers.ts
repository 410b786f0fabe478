import type { RateLimitResult } from './result.js';

/**
 * The IETF draft whose fields {@link rateLimitHeaders} writes. Its `RateLimit-Policy` and
 * `RateLimit` syntax (`"name";q=;w=` and `"name";r=;t=`) is the same in revisions -09, -10 and -11.
 */
export const RATELIMIT_HEADERS_DRAFT = 'draft-ietf-httpapi-ratelimit-headers-11';

/** Header names as written (HTTP field names are case-insensitive). */
export const HEADER = {
  policy: 'RateLimit-Policy',
  limit: 'RateLimit',
  retryAfter: 'Retry-After',
} as const;

/**
 * The response headers of a decision, per {@link RATELIMIT_HEADERS_DRAFT}:
 * - `RateLimit-Policy: "name";q=<limit>;w=<window s>` for every limit;
 * - `RateLimit: "name";r=<remaining>;t=<s>`, where t is the seconds until more quota is available:
 *   one more unit after an admitted call (`nextUnitMs`: the bucket's next token, not a full
 *   refill), enough for the call after a refused one (`retryAfterMs`);
 * - `Retry-After: <s>` on a refused call, never earlier than any refusing limit's `t`.
 * Seconds are rounded up, so a client that waits them out is never early. When Redis failed
 * (`result.error`) the counts are unknown: only `Retry-After` is set, on a fail-closed refusal.
 *
 * @example
 * ```ts
 * for (const [name, value] of Object.entries(rateLimitHeaders(result))) res.setHeader(name, value);
 * ```
 */
export function rateLimitHeaders(result: RateLimitResult): Record<string, string> {
  const headers: Record<string, string> = {};
  if (result.error === undefined) {
    headers[HEADER.policy] = result.policies
      .map((p) => `${sfString(p.name)};q=${p.limit};w=${Math.max(1, seconds(p.windowMs))}`)
      .join(', ');
    headers[HEADER.limit] = result.policies
      .map(
        (p) => `${sfString(p.name)};r=${p.remaining};t=${seconds(p.allowed ? p.nextUnitMs : p.retryAfterMs)}`,
      )
      .join(', ');
  }
  if (!result.allowed) headers[HEADER.retryAfter] = String(Math.max(1, seconds(result.retryAfterMs)));
  return headers;
}

function seconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

/** A Structured Field String (RFC 9651): quoted, with `\` and `"` escaped. */
function sfString(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&')}"`;
}
