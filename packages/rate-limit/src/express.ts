import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { createHttpGuard, type HttpRateLimitOptions } from './http.js';
import { apply } from './node.js';

/**
 * The part of an Express request the middleware reads, plus what key functions usually need; pass
 * Express's `Request` as the type argument to see the whole request.
 */
export interface ExpressLikeRequest {
  /** The client address, honouring Express's `trust proxy` setting. */
  ip?: string | undefined;
  /** The request headers, names lower-cased. */
  headers: IncomingHttpHeaders;
  /** The path and query, relative to where the middleware is mounted. */
  url?: string | undefined;
  /** The HTTP method. */
  method?: string | undefined;
  /** The connection, whose address is used when `ip` is missing. */
  socket: {
    /** The peer's address. */
    remoteAddress?: string | undefined;
  };
}

/**
 * Rate limiting middleware for Express 5 (and 4). Imports nothing from Express: it works on the
 * node:http request and response Express extends. Errors (such as a throwing `key`) go to `next(err)`.
 *
 * @example
 * ```ts
 * app.use(createExpressRateLimit({ limiter, skip: (req) => req.url === '/health' }));
 * ```
 */
export function createExpressRateLimit<Req extends ExpressLikeRequest = ExpressLikeRequest>(
  options: HttpRateLimitOptions<Req>,
): (req: NoInfer<Req>, res: ServerResponse, next: (err?: unknown) => void) => void {
  const guard = createHttpGuard(options, (req) => req.ip ?? req.socket.remoteAddress);
  return (req, res, next) => {
    guard(req)
      .then((decision) => {
        if (apply(decision, res)) next();
      })
      // Also a throw from apply() (headers already sent by an earlier middleware): never unhandled.
      .catch((err: unknown) => next(err));
  };
}

/** @deprecated Renamed {@link createExpressRateLimit} (one naming scheme for every framework adapter: `create<Framework><Thing>`). */
export const rateLimitExpress = createExpressRateLimit;
