import { createHttpGuard, type HttpRateLimitOptions } from './http.js';

/**
 * The part of a Hono context the middleware uses, plus what key functions usually need; pass your
 * app's `Context` as the type argument to see the whole context.
 */
export interface HonoLikeContext {
  /** The runtime's bindings; `@hono/node-server` puts the node:http request in `env.incoming`. */
  env: unknown;
  /** The request. */
  req: {
    /** A request header, or undefined. */
    header(name: string): string | undefined;
    /** The URL path. */
    path: string;
    /** The HTTP method. */
    method: string;
  };
  /** Sets a response header. */
  header(name: string, value: string): void;
  /** The response, once the handler has run: its status decides `skipSuccessfulRequests` / `skipFailedRequests`. */
  res?: {
    /** The response's HTTP status code. */
    status: number;
  };
}

/**
 * Rate limiting middleware for Hono 4. Imports nothing from Hono. The default key is the client
 * address `@hono/node-server` provides; on other runtimes pass `key` (e.g. from `getConnInfo(c)`
 * or your proxy's client-IP header).
 *
 * @example
 * ```ts
 * app.use('/api/*', createHonoRateLimit({ limiter, key: (c) => c.req.header('x-api-key') ?? 'anonymous' }));
 * ```
 */
export function createHonoRateLimit<Context extends HonoLikeContext = HonoLikeContext>(
  options: HttpRateLimitOptions<Context>,
): (c: NoInfer<Context>, next: () => Promise<void>) => Promise<Response | undefined> {
  const guard = createHttpGuard(options, nodeServerAddress);
  return async (c, next) => {
    const decision = await guard(c);
    if (decision.respond) {
      return new Response(decision.body, { status: decision.status, headers: decision.headers });
    }
    if (decision.onResponse !== undefined) {
      const settle = decision.onResponse;
      try {
        await next();
      } catch (err) {
        settle(undefined);
        throw err;
      }
      settle(c.res?.status);
    } else await next();
    // Set after the handler: Hono copies a finalized response before changing its headers.
    for (const [name, value] of Object.entries(decision.headers)) c.header(name, value);
    return undefined;
  };
}

/** `@hono/node-server` passes the node:http request as `c.env.incoming`. */
function nodeServerAddress(c: HonoLikeContext): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

/** @deprecated Renamed {@link createHonoRateLimit} (one naming scheme for every framework adapter: `create<Framework><Thing>`). */
export const rateLimitHono = createHonoRateLimit;
