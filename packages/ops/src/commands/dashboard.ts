import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { type Context, OperationError, UsageError } from '../context.js';
import { LOOPBACK_HOSTS } from '../dashboard/options.js';
import { labelOf, serveFrom } from '../dashboard/server.js';
import { integer } from '../options.js';
import type { Act } from '../run.js';
import { prefixesOf, prefixOptions } from './prefixes.js';

/** The default port: near Redis's own, and free on most machines. */
const DEFAULT_PORT = 7380;
/** Shortest token accepted when the dashboard listens beyond loopback. */
const MIN_EXPOSED_TOKEN = 16;
/** Bound of receiving a request's headers and whole request: a slow client cannot hold a socket. */
const REQUEST_TIMEOUT_MS = 10_000;
/** True for an address only this machine can reach. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Resolves when the run's signal aborts, or on SIGINT or SIGTERM. */
function stopped(ctx: Context): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string) => () => {
      process.removeListener('SIGTERM', onTerm);
      process.removeListener('SIGINT', onInt);
      resolve(why);
    };
    const onTerm = done('SIGTERM');
    const onInt = done('SIGINT');
    process.once('SIGTERM', onTerm);
    if (ctx.io.signal === undefined) process.once('SIGINT', onInt);
    else if (ctx.io.signal.aborted) onInt();
    else ctx.io.signal.addEventListener('abort', onInt, { once: true });
  });
}

/** `dashboard [--host] [--port] [--token] [--allow-writes]`. */
export function registerDashboard(program: Command, act: Act): void {
  const command = program
    .command('dashboard')
    .description(
      'serve the web dashboard until Ctrl-C or SIGTERM (loopback only unless --host says otherwise)',
    )
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option(
      '--port <port>',
      `port to listen on, 0 for any free one (default ${DEFAULT_PORT})`,
      integer(0, 65535),
    )
    .option(
      '--token <token>',
      'login token (default: $REDIS_PATTERNS_DASHBOARD_TOKEN, else a random one, printed)',
    )
    .option('--allow-writes', 'let the page retry, remove, pause, resume, revoke and invalidate');
  prefixOptions(command);
  command.action(
    act(async (ctx, _args, opts) => {
      const env = ctx.io.env ?? process.env;
      const token: string | undefined = opts.token ?? (env.REDIS_PATTERNS_DASHBOARD_TOKEN || undefined);
      const host = opts.host as string;
      if (!isLoopback(host) && token !== undefined && token.length < MIN_EXPOSED_TOKEN) {
        throw new UsageError(
          `the token is shorter than ${MIN_EXPOSED_TOKEN} characters while --host ${host} is not loopback; give a longer one, or none for a random one.`,
        );
      }
      // Connecting first: an unreachable Redis fails the command (exit 1) before anything listens.
      await ctx.connection();
      const prefixes = prefixesOf(ctx, opts);
      const dashboard = serveFrom(ctx, labelOf(ctx.options.url), {
        prefixes,
        allowWrites: opts.allowWrites === true,
        timeoutMs: ctx.options.timeout,
        ...(token === undefined ? {} : { token }),
        // The bound host too: `--host 127.0.0.2` prints a URL with that name in it.
        ...(isLoopback(host) ? { allowedHosts: [...LOOPBACK_HOSTS, host.toLowerCase()] } : {}),
      });
      const server = createServer(
        { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS },
        dashboard.handler,
      );
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(opts.port ?? DEFAULT_PORT, host.replace(/^\[|\]$/g, ''), resolve);
        });
      } catch (err) {
        await dashboard.close();
        throw new OperationError(
          `cannot listen on ${host}:${opts.port ?? DEFAULT_PORT}: ${(err as Error).message}`,
        );
      }
      const { port } = server.address() as AddressInfo;
      const url = `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}/`;
      if (!isLoopback(host)) {
        ctx.io.stderr.write(
          `warning: listening on ${host}, not loopback: anyone who can reach it and has the token can read${opts.allowWrites ? ' and change' : ''} this Redis. Put it behind TLS.\n`,
        );
      }
      ctx.print({ url, token: dashboard.token, allowWrites: opts.allowWrites === true }, () =>
        [
          `Dashboard of ${ctx.shownUrl()} at ${url}`,
          `Token: ${dashboard.token}`,
          opts.allowWrites ? 'Writes allowed.' : 'Read-only (start with --allow-writes to allow repairs).',
          'Stop with Ctrl-C.\n',
        ].join('\n'),
      );
      await stopped(ctx);
      ctx.note('stopping the dashboard');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dashboard.close();
    }),
  );
}
