import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { createHttpGuard, type HttpRateLimitOptions } from './http.js';
import { whenFinished } from './node.js';

/**
 * The part of a Fastify request the hook reads (`ip` honours Fastify's `trustProxy`), plus what key
 * functions usually need; pass `FastifyRequest` as the type argument to see the whole request.
 */
export interface FastifyLikeRequest {
  /** The client address, honouring Fastify's `trustProxy` option. */
  ip: string;
  /** The path and query. */
  url: string;
  /** The HTTP method. */
  method: string;
  /** The request headers, names lower-cased. */
  headers: IncomingHttpHeaders;
}

/** The part of a Fastify reply the hook uses. */
export interface FastifyLikeReply {
  /** Sets a response header. */
  header(name: string, value: string): unknown;
  /** Sets the status code. */
  code(statusCode: number): unknown;
  /** Sends the response. */
  send(payload?: unknown): unknown;
  /** The node:http response, watched for its status with `skipSuccessfulRequests` / `skipFailedRequests`. */
  raw?: Pick<ServerResponse, 'once' | 'statusCode' | 'writableFinished'>;
}

/**
 * Rate limiting for Fastify 5 as an `onRequest` hook; register it app-wide or per route. Imports
 * nothing from Fastify.
 *
 * @example
 * ```ts
 * app.addHook('onRequest', createFastifyRateLimit({ limiter }));
 * app.get('/search', { onRequest: createFastifyRateLimit({ limiter: searchLimiter }) }, handler);
 * ```
 */
export function createFastifyRateLimit<
  Req extends FastifyLikeRequest = FastifyLikeRequest,
  Reply extends FastifyLikeReply = FastifyLikeReply,
>(
  options: HttpRateLimitOptions<Req>,
  // NoInfer: route-level hook types would otherwise infer Req from the hook's context as `never`.
): (request: NoInfer<Req>, reply: NoInfer<Reply>) => Promise<Reply | undefined> {
  const guard = createHttpGuard(options, (request) => request.ip);
  return async (request, reply) => {
    const decision = await guard(request);
    for (const [name, value] of Object.entries(decision.headers)) reply.header(name, value);
    if (!decision.respond) {
      if (decision.onResponse !== undefined && reply.raw !== undefined)
        whenFinished(reply.raw, decision.onResponse);
      return undefined;
    }
    reply.code(decision.status);
    reply.send(decision.body);
    // An async hook that has sent the reply returns it, so Fastify stops the request there.
    return reply;
  };
}

/** @deprecated Renamed {@link createFastifyRateLimit} (one naming scheme for every framework adapter: `create<Framework><Thing>`). */
export const rateLimitFastify = createFastifyRateLimit;
