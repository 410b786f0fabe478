import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ClosedError,
  parseRedisUrl,
  type RedisConnection,
  type RedisLike,
  toConnection,
} from '@redis-patterns/connection';
import { discoverQueues, withQueue } from '../commands/queue.js';
import { type ConnectionSource, Context } from '../context.js';
import { type ApiContext, HttpError, read, statusOf, write } from './api.js';
import { type Asset, loadAssets } from './assets.js';
import { hostAllowed, Logins, loginCookie, originMatches, refusedWrite } from './auth.js';
import { bodyOf, SECURITY_HEADERS, send } from './http.js';
import { type DashboardOptions, resolveOptions } from './options.js';
import { endsWithSlash, pathsOf, type RequestPaths } from './paths.js';
import { QueueSampler } from './sampler.js';

/** A Node request handler; `next` is Express's, called only for an error the handler cannot answer. */
export type DashboardHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (err?: unknown) => void,
) => void;

/** What {@link createDashboard} returns. */
export interface Dashboard {
  /** Serves the page, its files and its JSON API under whatever path it is mounted at. */
  handler: DashboardHandler;
  /** The login token (generated unless given); undefined with `token: false`. */
  token: string | undefined;
  /**
   * Stops sampling and, when the dashboard opened the connection from a URL, closes it. Requests
   * after it answer 503; none opens a connection again.
   */
  close(): Promise<void>;
}

/** The connection to read with: opened from a URL (and closed by the dashboard), or the caller's. */
function sourceOf(
  redis: DashboardOptions['redis'],
  timeoutMs: number,
): ConnectionSource & { close(): Promise<void> } {
  if (typeof redis === 'string') {
    const sink = { write: () => true };
    return new Context(
      { url: redis, json: true, yes: false, timeout: timeoutMs },
      { stdout: sink, stderr: sink },
    );
  }
  const conn: RedisConnection = toConnection(redis as RedisLike);
  return { connection: async () => conn, prefix: (fallback) => fallback, close: async () => {} };
}

/** What the page shows as the Redis it reads: host:port only, never the user or the password. */
export function labelOf(redis: DashboardOptions['redis']): { label: string; secrets: string[] } {
  if (typeof redis !== 'string') return { label: 'the given connection', secrets: [] };
  const parsed = parseRedisUrl(redis);
  const hosts = parsed.hosts.map((h) =>
    h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`,
  );
  const secrets = [parsed.password, parsed.username].filter(
    (s): s is string => s !== undefined && s.length >= 4,
  );
  return { label: `${parsed.topology} ${hosts.join(',')}`, secrets };
}

/**
 * Creates the web dashboard: queues (counts, charts of depth and throughput, jobs by state, dead
 * jobs, schedules, pause), locks, leaderboards, rate limits, sessions and cache stats, read through
 * the inspect APIs only. Read-only unless `allowWrites`; behind a token login unless `token: false`.
 * Serve `handler` from `node:http`, or mount it in an app (the `redis-patterns dashboard` command
 * does the first, on loopback).
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createDashboard } from '@redis-patterns/ops';
 *
 * const dashboard = createDashboard({ redis: 'redis://127.0.0.1:6379', token: false });
 * const app = express();
 * // The app's own auth runs first: with `token: false` the dashboard trusts whoever gets through.
 * app.use('/ops', (req, res, next) => (req.get('x-admin') === 'yes' ? next() : res.sendStatus(401)));
 * app.use('/ops', dashboard.handler);
 * ```
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const { label, secrets } = labelOf(options.redis);
  const source = sourceOf(options.redis, options.timeoutMs ?? 3000);
  return serveFrom(source, { label, secrets }, options);
}

/**
 * The dashboard over `source`, shown as `shown.label`, with `shown.secrets` masked in every answer;
 * `source.close`, when given, runs on close(). The CLI passes its own command context here.
 * @internal
 */
export function serveFrom(
  source: ConnectionSource & { close?: () => Promise<void> },
  shown: { label: string; secrets: readonly string[] },
  options: Omit<DashboardOptions, 'redis'>,
): Dashboard {
  const resolved = resolveOptions(options);
  let closed = false;
  // A request in flight at close() must not open the connection again.
  const reader: ConnectionSource = {
    connection: () =>
      closed ? Promise.reject(new ClosedError('the dashboard was closed.')) : source.connection(),
    prefix: (fallback) => source.prefix(fallback),
  };
  const sampler = new QueueSampler(
    {
      discover: async () => discoverQueues(await reader.connection(), resolved.prefixes.queue),
      counts: (name) => withQueue(reader, name, (q) => q.counts(), resolved.prefixes.queue),
    },
    resolved.sampleEveryMs,
    resolved.historyMs,
    resolved.maxSampledQueues,
  );
  const logins = new Logins(resolved.token);
  const scrub = (message: string) =>
    shown.secrets.reduce(
      (text, secret) => text.split(secret).join('***'),
      message.replace(/\/\/[^@/\s]*@/g, '//'),
    );
  const api: ApiContext = { source: reader, options: resolved, sampler, scrub };
  const ctx: RequestContext = { assets: loadAssets(), logins, api, label: shown.label, scrub };
  sampler.start();
  return {
    handler: (req, res, next) => {
      if (closed) {
        send(res, 503, { error: { message: 'the dashboard was closed.' } });
        return;
      }
      handle(ctx, req, res).catch((err) => {
        if (next !== undefined && !res.headersSent) next(err);
        else if (!res.headersSent) send(res, 500, { error: { message: scrub((err as Error).message) } });
        else res.destroy();
      });
    },
    token: resolved.token === false ? undefined : resolved.token,
    close: async () => {
      closed = true;
      await sampler.stop();
      await source.close?.();
    },
  };
}

interface RequestContext {
  assets: Map<string, Asset>;
  logins: Logins;
  api: ApiContext;
  label: string;
  scrub: (message: string) => string;
}

async function handle(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // The Host first: a rebinding page learns nothing, not even how a path parses.
  if (!hostAllowed(req, ctx.api.options.allowedHosts)) {
    send(res, 421, { error: { message: 'this Host is not served here.' } });
    return;
  }
  let paths: RequestPaths;
  try {
    paths = pathsOf(req, ctx.api.options.basePath);
  } catch (err) {
    send(res, statusOf(err), { error: { message: (err as Error).message } });
    return;
  }
  const { rel, base, query } = paths;
  // The page loads its files by relative URLs: it must be served at the mount point's trailing slash
  // (Express hands `/ops` to the handler as `/`).
  if (rel === '' || (rel === '/' && !endsWithSlash(req))) {
    // One leading slash: a path like `//host` must not turn this into a redirect to another site.
    res.writeHead(308, { location: `${base.replace(/^\/+/, '/')}/` }).end();
    return;
  }
  const path = rel.replace(/^\/+/, '');
  const method = req.method ?? 'GET';
  const asset = ctx.assets.get(path);
  if (asset !== undefined && (method === 'GET' || method === 'HEAD')) {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'cache-control': 'no-cache' });
    res.end(method === 'HEAD' ? undefined : asset.body);
    return;
  }
  if (path === 'login' || path === 'logout') {
    await session(ctx, req, res, path, base).catch((err) => {
      send(res, statusOf(err), { error: { message: ctx.scrub((err as Error).message) } });
    });
    return;
  }
  if (!path.startsWith('api/')) {
    send(res, 404, { error: { message: 'not found.' } });
    return;
  }
  await apiCall(ctx, req, res, path.slice('api/'.length), query);
}

/** `POST login` (token in, cookie out) and `POST logout`. */
async function session(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: 'login' | 'logout',
  base: string,
): Promise<void> {
  if (req.method !== 'POST') {
    send(res, 405, { error: { message: `${path} takes POST.` } }, { allow: 'POST' });
    return;
  }
  // A login from another site's page would log the browser into the attacker's choice of session.
  if (!originMatches(req)) {
    send(res, 403, { error: { message: 'the Origin header does not match the Host.' } });
    return;
  }
  const cookiePath = base === '' ? '/' : base;
  const { cookie } = ctx.logins;
  if (path === 'logout') {
    ctx.logins.logout(req);
    send(res, 200, { ok: true }, { 'set-cookie': loginCookie(cookie, '', cookiePath, req) });
    return;
  }
  const body = await bodyOf(req);
  const id = ctx.logins.login(req, body.token);
  if (id === undefined) {
    send(res, 401, { error: { message: 'wrong token.' } });
    return;
  }
  send(res, 200, { ok: true }, { 'set-cookie': loginCookie(cookie, id, cookiePath, req) });
}

async function apiCall(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  const { allowWrites } = ctx.api.options;
  try {
    const caller = ctx.logins.callerOf(req);
    if (caller === undefined) throw new HttpError(401, 'log in with the dashboard token first.');
    if (req.method === 'GET' && path === 'me') {
      const csrf = caller.kind === 'bearer' ? null : caller.csrf;
      send(res, 200, { redis: ctx.label, allowWrites, csrf, login: caller.kind === 'login' });
    } else if (req.method === 'GET') {
      send(res, 200, await read(ctx.api, path, query));
    } else if (req.method === 'POST') {
      const refused = allowWrites
        ? refusedWrite(req, caller)
        : 'read-only: start the dashboard with --allow-writes (allowWrites: true in createDashboard).';
      if (refused !== undefined) throw new HttpError(403, refused);
      if (path.startsWith('queue/')) ctx.api.sampler.rediscover();
      send(res, 200, await write(ctx.api, path, await bodyOf(req)));
    } else {
      send(res, 405, { error: { message: 'GET or POST only.' } }, { allow: 'GET, POST' });
    }
  } catch (err) {
    send(res, statusOf(err), { error: { message: ctx.scrub((err as Error).message) } });
  }
}
