import type { IncomingMessage } from 'node:http';
import { HttpError } from './api.js';

/** Where a request points: its path under the mount point, the mount point itself, and the query. */
export interface RequestPaths {
  /** The path under the mount point, with its leading slash (empty for the bare mount point). */
  rel: string;
  /** The mount point as the client sent it. */
  base: string;
  /** The query string's parameters. */
  query: URLSearchParams;
}

/** A fixed origin to parse request targets against: only the path and query come from the client. */
const ORIGIN = 'http://dashboard.invalid';

/**
 * The path and query of a request target. Dot segments, plain or percent-encoded, and backslashes
 * are refused rather than resolved: whatever sits in front (a proxy, the host app's auth hook) may
 * have judged the path as sent, and resolving it here would serve another one.
 */
function parseTarget(target: string): URL {
  const path = target.split('?', 1)[0] as string;
  const dotted = path.split('/').some((segment) => segment === '.' || segment === '..');
  if (!path.startsWith('/') || dotted || /\\|%2e|%5c/i.test(path)) {
    throw new HttpError(400, 'the request path has dot segments or is not a plain path.');
  }
  try {
    return new URL(`${ORIGIN}${target}`);
  } catch {
    throw new HttpError(400, 'the request path does not parse.');
  }
}

/**
 * The request's path under the mount point and the mount point itself. With `basePath`, a raw path
 * not under it is answered 404, never served as if it were relative to the mount.
 */
export function pathsOf(req: IncomingMessage, basePath: string): RequestPaths {
  const url = parseTarget(req.url ?? '/');
  // Before a framework stripped its mount point (Express keeps it in originalUrl).
  const full = parseTarget((req as { originalUrl?: string }).originalUrl ?? req.url ?? '/').pathname;
  let rel = url.pathname;
  if (basePath !== '') {
    if (rel !== basePath && !rel.startsWith(`${basePath}/`)) throw new HttpError(404, 'not found.');
    rel = rel.slice(basePath.length);
  }
  let base = basePath;
  if (full.endsWith(rel)) base = full.slice(0, full.length - rel.length);
  else if (rel === '/') base = full;
  return { rel, base, query: url.searchParams };
}

/** True when the path the client asked for ends with a slash (the page's relative URLs need one). */
export function endsWithSlash(req: IncomingMessage): boolean {
  const target = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  return (target.split('?', 1)[0] as string).endsWith('/');
}
