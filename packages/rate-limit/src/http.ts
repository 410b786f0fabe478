import { InvalidArgumentError } from '@redis-patterns/connection';
import { checkBoolean, checkOptions } from '@redis-patterns/connection/internal';
import { rateLimitHeaders } from './headers.js';
import { checkSubnet, ipKey } from './ip.js';
import type { RateLimiter } from './limiter.js';
import type { RateLimitResult } from './result.js';

/** Options shared by the node:http, Express, Fastify and Hono middleware; `Req` is the framework's request. */
export interface HttpRateLimitOptions<Req> {
  /** The limiter to charge (one limit, or several with `all()`); required. */
  limiter: RateLimiter;
  /** The identifier to limit by, e.g. an API key or user id. @default the client IP address, IPv6 grouped by `ipv6Subnet` */
  key?: (req: Req) => string | Promise<string>;
  /** Units a request uses. @default 1 */
  cost?: (req: Req) => number | Promise<number>;
  /**
   * The request's limit, e.g. from the caller's plan (`limit` of `LimitOptions`: a number, or
   * one per limiter for `all()`). A caller moving to another limit keeps what it has used.
   * @default the algorithm's limit
   */
  limit?: (req: Req) => number | readonly number[] | Promise<number | readonly number[]>;
  /**
   * Give back an admitted request once its response finishes with a status below 400, so only
   * failures count (e.g. failed logins). The request is counted before the handler runs, so a
   * concurrent burst never gets past the limit. @default false
   */
  skipSuccessfulRequests?: boolean;
  /**
   * Give back an admitted request once its response finishes with a status of 400 or more, or the
   * connection closes before it finishes. Counted first, as for `skipSuccessfulRequests`. @default false
   */
  skipFailedRequests?: boolean;
  /** Requests for which this returns true pass untouched: not counted, no headers. @default none */
  skip?: (req: Req) => boolean | Promise<boolean>;
  /**
   * Clients that are never limited nor counted: IP addresses, matched exactly (an IPv6 entry is
   * never widened to its `ipv6Subnet`; write the subnet key, e.g. `2001:db8:aa:bb00::/56`, to allow
   * a whole subnet), or values of `key`.
   * @default none
   */
  allowList?: Iterable<string>;
  /** IPv6 prefix length the default key groups addresses by; false keys every address alone. @default 56 */
  ipv6Subnet?: number | false;
  /** Send `RateLimit-Policy` and `RateLimit` on every limited response, not only on refusals. @default true */
  headers?: boolean;
  /** Status of a refused request. @default 429 */
  statusCode?: number;
  /** Body of a refused request: a string (text/plain) or an object (JSON). @default an RFC 9457 problem (quota-exceeded) */
  body?: (result: RateLimitResult) => string | object;
}

/** What a middleware does with a request: let it through with headers, or answer it. */
export type HttpDecision =
  | {
      /** Let the request through. */
      respond: false;
      /** Headers to add to the eventual response. */
      headers: Record<string, string>;
      /**
       * With `skipSuccessfulRequests` or `skipFailedRequests`: call it once, when the response has
       * finished, with its status (undefined if the connection closed first, which counts as a
       * failure); it refunds the request when it should not count. A refund that fails leaves the
       * request counted.
       */
      onResponse?: (statusCode: number | undefined) => void;
    }
  | {
      /** Answer the request now. */
      respond: true;
      /** The status: the refusal's (429 by default), or 503 when failing closed. */
      status: number;
      /** The response headers, Content-Type included. */
      headers: Record<string, string>;
      /** The response body. */
      body: string;
    };

const PROBLEM_TYPES = 'https://iana.org/assignments/http-problem-types';

/**
 * The framework-independent core of the middleware: decides for one request. `ipOf` reads the
 * client address from the framework's request.
 */
export function createHttpGuard<Req>(
  options: HttpRateLimitOptions<Req>,
  ipOf: (req: Req) => string | undefined,
): (req: Req) => Promise<HttpDecision> {
  const { subnet, status } = checkHttpOptions(options);
  const skipOk = options.skipSuccessfulRequests === true;
  const skipFailed = options.skipFailedRequests === true;
  // Normalized (IPv4-mapped IPv6 as IPv4) but not masked: an entry allows that address, not its subnet.
  const allowed = new Set([...(options.allowList ?? [])].map((entry) => ipKey(String(entry), false)));
  const sendHeaders = options.headers ?? true;
  const { limiter, skip, cost, body, limit } = options;
  const keyOf =
    options.key ??
    ((req: Req) => {
      const ip = ipOf(req);
      if (ip === undefined || ip === '') {
        throw new InvalidArgumentError(
          'key',
          'the client IP address is unknown here; pass key: (req) => identifier.',
        );
      }
      return ipKey(ip, subnet);
    });

  return async (req) => {
    if (skip !== undefined && (await skip(req))) return { respond: false, headers: {} };
    if (allowed.size > 0) {
      const ip = ipOf(req);
      if (ip !== undefined && ip !== '' && allowed.has(ipKey(ip, false)))
        return { respond: false, headers: {} };
    }
    const key = await keyOf(req);
    if (allowed.has(key)) return { respond: false, headers: {} };
    const units = cost === undefined ? 1 : await cost(req);
    const call = limit === undefined ? { cost: units } : { cost: units, limit: await limit(req) };
    const result = await limiter.limit(key, call);
    const headers = rateLimitHeaders(result);
    if (result.allowed) {
      const pass: HttpDecision = { respond: false, headers: sendHeaders ? headers : {} };
      // Counted now, before the handler runs; given back when the response says it should not count.
      if ((skipOk || skipFailed) && result.error === undefined) {
        pass.onResponse = (status) => {
          const ok = status !== undefined && status < 400;
          // A refund that fails leaves the request counted: the safe side.
          if (ok ? skipOk : skipFailed) limiter.refund(key, units, { charge: result }).catch(() => {});
        };
      }
      return pass;
    }
    // Fail-closed because Redis is down is not the caller's fault: 503, as the draft's problem type says.
    const unavailable = result.error !== undefined;
    const code = unavailable ? 503 : status;
    const payload = body !== undefined && !unavailable ? body(result) : problem(result, code, unavailable);
    const isText = typeof payload === 'string';
    headers['Content-Type'] = isText
      ? 'text/plain; charset=utf-8'
      : body !== undefined && !unavailable
        ? 'application/json; charset=utf-8'
        : 'application/problem+json';
    return { respond: true, status: code, headers, body: isText ? payload : JSON.stringify(payload) };
  };
}

/** Checks the middleware options before anything runs; the subnet and refusal status to use. */
function checkHttpOptions<Req>(options: HttpRateLimitOptions<Req>): {
  subnet: number | false;
  status: number;
} {
  checkOptions('options', options, '{ limiter, key?, cost?, skip?, ... }');
  if (typeof options?.limiter?.limit !== 'function') {
    throw new InvalidArgumentError('limiter', 'expected a rate limiter from createRateLimiter() or all().');
  }
  for (const hook of ['key', 'cost', 'limit', 'skip', 'body'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function')
      throw new InvalidArgumentError(hook, 'expected a function of the request.');
  }
  if (
    options.allowList !== undefined &&
    (typeof options.allowList !== 'object' || !(Symbol.iterator in options.allowList))
  )
    throw new InvalidArgumentError('allowList', 'expected an array (or other iterable) of IP addresses.');
  checkBoolean('headers', options.headers);
  checkBoolean('skipSuccessfulRequests', options.skipSuccessfulRequests);
  checkBoolean('skipFailedRequests', options.skipFailedRequests);
  const subnet = options.ipv6Subnet ?? 56;
  checkSubnet(subnet);
  const status = options.statusCode ?? 429;
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new InvalidArgumentError(
      'statusCode',
      `expected an HTTP error status (400-599), got ${String(status)}.`,
    );
  }
  return { subnet, status };
}

function problem(result: RateLimitResult, status: number, unavailable: boolean): object {
  const violated = result.policies.filter((p) => !p.allowed).map((p) => p.name);
  return unavailable
    ? {
        type: `${PROBLEM_TYPES}#temporary-reduced-capacity`,
        title: 'The rate limiter is unavailable; retry later.',
        status,
        'violated-policies': violated,
      }
    : {
        type: `${PROBLEM_TYPES}#quota-exceeded`,
        title: 'Too many requests: the rate limit was exceeded.',
        status,
        'violated-policies': violated,
      };
}
