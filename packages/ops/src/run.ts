import { readFileSync } from 'node:fs';
import { RedisPatternsError, redact } from '@redis-patterns/connection';
import { Command, CommanderError, Option } from 'commander';
import { registerCache } from './commands/cache.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerLeaderboard } from './commands/leaderboard.js';
import { registerLock } from './commands/lock.js';
import { registerQueue } from './commands/queue.js';
import { registerRateLimit } from './commands/ratelimit.js';
import { registerSession } from './commands/session.js';
import { registerStatus } from './commands/status.js';
import { Context, type GlobalOptions, OperationError, type RunIO, UsageError } from './context.js';
import { integer } from './options.js';

/** How an action is declared: it gets the context, then its positional arguments, then its options. */
export type Act = (
  fn: (ctx: Context, args: unknown[], options: Record<string, any>) => Promise<void>,
) => (...params: unknown[]) => Promise<void>;

/** The default of `--timeout`: short, since a person waits for it. */
const DEFAULT_TIMEOUT_MS = 3000;
/** Without `--url` and `REDIS_URL`. */
const LOCAL_URL = 'redis://127.0.0.1:6379';

/**
 * Runs the `redis-patterns` CLI with `argv` (the arguments after the program name) and resolves
 * with the exit code: 0 done, 1 the operation failed (a Redis error, an unreachable server, a job
 * or lock not found), 2 a usage error or a destructive command refused without confirmation. It
 * never calls `process.exit` and closes the connection it opened before it resolves.
 *
 * @example
 * ```ts
 * import { run } from '@redis-patterns/ops';
 *
 * const lines: string[] = [];
 * const code = await run(['--json', 'queue', 'counts', 'emails'], {
 *   stdout: { write: (chunk: string) => lines.push(chunk) },
 *   stderr: process.stderr,
 * });
 * console.log(code, lines.join(''));
 * ```
 */
export async function run(argv: readonly string[], io: RunIO): Promise<number> {
  const json = argv.includes('--json');
  const env = io.env ?? process.env;
  const contexts: Context[] = [];
  const act: Act =
    (fn) =>
    async (...params) => {
      const command = params.at(-1) as Command;
      const all = command.optsWithGlobals();
      const options: GlobalOptions = {
        url: all.url ?? (env.REDIS_URL || LOCAL_URL),
        json: all.json === true,
        yes: all.yes === true,
        timeout: all.timeout ?? DEFAULT_TIMEOUT_MS,
        ...(all.prefix === undefined ? {} : { prefix: all.prefix }),
      };
      const ctx = new Context(options, io);
      contexts.push(ctx);
      await fn(ctx, params.slice(0, -2), command.opts());
    };
  const program = createProgram(io, json, argv);
  registerQueue(program, act);
  registerLock(program, act);
  registerRateLimit(program, act);
  registerLeaderboard(program, act);
  registerSession(program, act);
  registerCache(program, act);
  registerStatus(program, act);
  registerDashboard(program, act);
  // The connection's own timers are unref'd: without a ref'd handle, a connect that never gets a
  // socket up (every Cluster node refusing) would let Node exit mid-await, with code 13 and no message.
  const keepAlive = setInterval(() => {}, 60_000);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    const url = contexts[0]?.options.url ?? env.REDIS_URL ?? LOCAL_URL;
    return report(err, { json, url, stderr: io.stderr });
  } finally {
    await Promise.all(contexts.map((ctx) => ctx.close()));
    clearInterval(keepAlive);
  }
}

function createProgram(io: RunIO, json: boolean, argv: readonly string[]): Command {
  // The version has no `-V`: a session handle (base64url) may start with it, and `session revoke
  // -V…` would print the version and exit 0.
  return new Command('redis-patterns')
    .description('Inspect and repair the redis-patterns data structures on a Redis server or Cluster.')
    .option(
      '--url <url>',
      'Redis URL, ?cluster=true for a Cluster (default: $REDIS_URL, else redis://127.0.0.1:6379)',
    )
    .option('--prefix <prefix>', "key prefix of the pattern (default: the pattern package's own)")
    .option('--json', 'machine output: JSON on stdout, errors as JSON on stderr')
    .option('-y, --yes', 'do not ask before a destructive command')
    .addOption(
      new Option('--timeout <ms>', 'bound of the connection and of every Redis command')
        .argParser(integer(1, 600_000))
        .default(DEFAULT_TIMEOUT_MS),
    )
    .version(ownVersion(), '--version')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => {
        const message = withDashHint(text.trim(), argv);
        write(json ? `${JSON.stringify({ error: { code: 'usage', message } })}\n` : `${message}\n`);
      },
    });
}

/**
 * A session handle is base64url and starts with `-` one time in 64; so may a cache key or a job id.
 * Commander reads such a value as options (`-yD5b…` as `-y` and `-D5b…`): the error names the
 * whole argument and says how to pass it.
 */
function withDashHint(message: string, argv: readonly string[]): string {
  const unknown = /unknown option '(-[^']*)'/.exec(message)?.[1];
  if (unknown === undefined || message.includes('Did you mean')) return message;
  const end = argv.indexOf('--');
  const before = end < 0 ? argv : argv.slice(0, end);
  // The argument itself, or the one commander split after a known short flag (`-y` of `-yD5b…`).
  const given =
    before.findLast((arg) => arg === unknown || (/^-[^-]/.test(arg) && arg.endsWith(unknown.slice(1)))) ??
    unknown;
  const how = `put it after '--', behind every option: ... -- ${given}`;
  return `${message}\n(if '${given}' is a value, not an option, ${how})`;
}

/** This package's version, from its package.json (next to dist/ when installed). */
function ownVersion(): string {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/** Prints `err` on stderr and returns the exit code it stands for. */
function report(
  err: unknown,
  { json, url, stderr }: { json: boolean; url: string; stderr: RunIO['stderr'] },
) {
  const usage =
    err instanceof UsageError || (err instanceof RedisPatternsError && err.code === 'ERR_INVALID_ARGUMENT');
  let code = 'error';
  if (err instanceof UsageError) code = 'usage';
  else if (err instanceof OperationError) code = 'failed';
  else if (err instanceof RedisPatternsError) code = err.code;
  let message = err instanceof Error ? err.message : String(err);
  if (err instanceof RedisPatternsError && err.code === 'ERR_CONNECTION') {
    const cause =
      err.cause instanceof Error && !message.includes(err.cause.message) ? ` (${err.cause.message})` : '';
    message = `cannot reach Redis at ${url}: ${message}${cause}`;
  }
  message = hidePassword(message, url);
  stderr.write(json ? `${JSON.stringify({ error: { code, message } })}\n` : `redis-patterns: ${message}\n`);
  return usage ? 2 : 1;
}

/**
 * `message` without the URL's password: redact() masks it in any URL; a long enough password is
 * also masked where it appears alone (a short one would mask ordinary words).
 */
function hidePassword(message: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url.split(',')[0] ?? url).password);
  } catch {
    // not a URL: nothing to hide but what redact() finds
  }
  const shown = redact(message);
  return password.length < 6 ? shown : shown.split(password).join('***');
}
