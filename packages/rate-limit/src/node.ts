import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHttpGuard, type HttpDecision, type HttpRateLimitOptions } from './http.js';

/**
 * Rate limiting for a plain `node:http` server. The returned function resolves to true when the
 * request may proceed (the RateLimit headers are already set on `res`), or false when it has
 * answered the request itself (429, or 503 when Redis is down and the limiter fails closed).
 *
 * @example
 * ```ts
 * const guard = createNodeRateLimit({ limiter });
 * http.createServer(async (req, res) => {
 *   if (!(await guard(req, res))) return;
 *   res.end('hello');
 * });
 * ```
 */
export function createNodeRateLimit(
  options: HttpRateLimitOptions<IncomingMessage>,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const guard = createHttpGuard(options, (req) => req.socket.remoteAddress);
  return async (req, res) => apply(await guard(req), res);
}

/** Writes a decision to a node:http response; true when the request should go on. */
export function apply(decision: HttpDecision, res: ServerResponse): boolean {
  for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
  if (!decision.respond) {
    if (decision.onResponse !== undefined) whenFinished(res, decision.onResponse);
    return true;
  }
  res.statusCode = decision.status;
  res.end(decision.body);
  return false;
}

/** @deprecated Renamed {@link createNodeRateLimit} (one naming scheme for every framework adapter: `create<Framework><Thing>`). */
export const rateLimitNode = createNodeRateLimit;

/** Calls `settle` once with the response's status when it finishes, or undefined if it closes first. */
export function whenFinished(
  res: Pick<ServerResponse, 'once' | 'statusCode' | 'writableFinished'>,
  settle: (statusCode: number | undefined) => void,
): void {
  let done = false;
  const once = (status: number | undefined) => {
    if (done) return;
    done = true;
    settle(status);
  };
  res.once('finish', () => once(res.statusCode));
  res.once('close', () => once(res.writableFinished ? res.statusCode : undefined));
}
