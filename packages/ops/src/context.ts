import { createInterface } from 'node:readline';
import { connect, type RedisConnection, redact } from '@redis-patterns/connection';

/** A stream the CLI writes to: `process.stdout`, or anything with `write` in tests. */
export interface OutputStream {
  /** Writes a chunk of text. */
  write(chunk: string): unknown;
  /** True when it is a terminal (then `status --watch` clears and redraws). */
  isTTY?: boolean;
}

/** Where {@link run} reads and writes, and what stops it. */
export interface RunIO {
  /** Results: JSON with `--json`, tables otherwise. */
  stdout: OutputStream;
  /** Errors, prompts and progress (JSON errors with `--json`). */
  stderr: OutputStream;
  /**
   * Where the answer to a confirmation prompt comes from. Unless it is a terminal (its `isTTY` is
   * true, as `process.stdin`'s is in a terminal), a destructive command refuses without `--yes`.
   */
  stdin?: NodeJS.ReadableStream;
  /** Aborting it stops `status --watch` (the bin aborts it on Ctrl-C). */
  signal?: AbortSignal;
  /** Environment variables (`REDIS_URL`). @default process.env */
  env?: Record<string, string | undefined>;
}

/** A bad invocation or a refused one: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** An operation that failed without a Redis error (a job not found): exit code 1. */
export class OperationError extends Error {
  override readonly name = 'OperationError';
}

/** The options every command takes. */
export interface GlobalOptions {
  url: string;
  prefix?: string;
  json: boolean;
  yes: boolean;
  timeout: number;
}

/** What the inspector helpers need: one connection and the prefix rule (the CLI's Context, or the dashboard's). */
export type ConnectionSource = Pick<Context, 'connection' | 'prefix'>;

/** What a command's action works with: its options, its output, and one connection opened on demand. */
export class Context {
  #conn: Promise<RedisConnection> | undefined;

  constructor(
    readonly options: GlobalOptions,
    readonly io: RunIO,
  ) {}

  /** The prefix the user gave, else the pattern's own default. */
  prefix(fallback: string): string {
    return this.options.prefix ?? fallback;
  }

  /** One connection for the command, bounded by `--timeout` for connecting and for every command. */
  connection(): Promise<RedisConnection> {
    if (this.#conn !== undefined) return this.#conn;
    const opening = connect({
      url: this.options.url,
      connectTimeoutMs: this.options.timeout,
      commandTimeoutMs: this.options.timeout,
      reconnect: { baseDelayMs: 50, maxDelayMs: 500 },
    });
    this.#conn = opening;
    // A failed connect is not kept: the next call (the dashboard's next request) tries again.
    opening.catch(() => {
      if (this.#conn === opening) this.#conn = undefined;
    });
    return opening;
  }

  /** Closes the connection if one was opened; never waits longer than `--timeout`. */
  async close(): Promise<void> {
    const opened = this.#conn;
    this.#conn = undefined;
    if (opened === undefined) return;
    const conn = await opened.catch(() => undefined);
    if (conn === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.timeout);
    });
    await Promise.race([conn.close().catch(() => {}), late]);
    clearTimeout(timer);
  }

  /** The URL without its password, for people. */
  shownUrl(): string {
    return redact(this.options.url);
  }

  /** Prints `value` as one line of JSON with `--json`, else what `human` returns. */
  print(value: unknown, human: () => string): void {
    this.io.stdout.write(this.options.json ? `${JSON.stringify(value)}\n` : human());
  }

  /** A line of progress or a note for people, on stderr; silent with `--json`. */
  note(text: string): void {
    if (!this.options.json) this.io.stderr.write(`${text}\n`);
  }

  /**
   * Asks before a destructive command: passes with `--yes`, asks on a terminal, and refuses
   * (UsageError, exit 2) when there is no terminal to ask on.
   */
  async confirm(what: string): Promise<void> {
    if (this.options.yes) return;
    const stdin = this.io.stdin;
    if (stdin === undefined || (stdin as { isTTY?: boolean }).isTTY !== true) {
      throw new UsageError(`refusing to ${what} without confirmation: no terminal to ask on; pass --yes.`);
    }
    const rl = createInterface({ input: stdin, terminal: false });
    // Listening before the prompt is written: an answer typed ahead is not lost.
    const answer = new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    this.io.stderr.write(`About to ${what} on ${redact(this.options.url)}. Continue? [y/N] `);
    const given = await answer;
    rl.close();
    if (!/^y(es)?$/i.test(given.trim())) throw new UsageError(`not confirmed: did not ${what}.`);
  }
}
