import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { track } from './processes.ts';

/** How a child ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A Node.js child process of a test, read line by line. */
export interface Child {
  readonly process: ChildProcess;
  /** Every line the child printed on stdout so far. */
  readonly lines: readonly string[];
  /** What the child printed on stderr so far (for failure messages). */
  readonly stderr: string;
  /**
   * The first stdout line, printed already or still to come, equal to `match` or passing it.
   * Rejects after `timeoutMs`, or as soon as the child exits without printing one, quoting its
   * stderr.
   */
  line(match: string | ((line: string) => boolean), timeoutMs?: number): Promise<string>;
  /** The line after the one the previous call returned (the first line, at the first call). */
  next(timeoutMs?: number): Promise<string>;
  /** {@link Child.line} parsed as JSON (the child printed one JSON object per line). */
  json<T = Record<string, unknown>>(match?: (value: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Writes `text` and a newline to the child's stdin; ignored once the child is gone. */
  send(text: string): void;
  /** Resolves once the child has exited. */
  readonly exited: Promise<ChildExit>;
}

/** Options of {@link startChild}. */
export interface StartChildOptions {
  /** Where the child's stderr goes: kept for failure messages, or shown as it comes. @default 'pipe' */
  stderr?: 'pipe' | 'inherit';
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/**
 * Starts `node <script> ...args` with pipes for stdin and stdout. The child is SIGKILLed if the
 * test process exits first, so a failed test never leaves one behind.
 */
export function startChild(
  script: string,
  args: readonly string[] = [],
  options: StartChildOptions = {},
): Child {
  const child = track(
    spawn(process.execPath, [script, ...args], {
      stdio: ['pipe', 'pipe', options.stderr ?? 'pipe'],
      env: options.env === undefined ? process.env : { ...process.env, ...options.env },
    }),
  );
  child.ref(); // track() unrefs it; a test that waits on it must keep the event loop alive
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin?.on('error', () => {}); // writing to a child that was killed
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    lines.push(text);
    for (const listener of [...listeners]) listener();
  });
  let ended = false;
  const exited = new Promise<ChildExit>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      ended = true;
      // Lines still buffered in the pipe arrive before 'close'; let the waiters see them first.
      setImmediate(() => {
        for (const listener of [...listeners]) listener();
      });
      resolve({ code, signal });
    };
    child.once('close', done);
    child.once('error', () => done(null, null));
  });
  /** Resolves with what `pick` finds in the lines, once it finds something. */
  const waitFor = (pick: () => string | undefined, what: string, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const fail = (why: string) =>
        new Error(`${script} ${why} ${what}; printed ${JSON.stringify(lines)}; stderr: ${stderr}`);
      const check = () => {
        const found = pick();
        if (found !== undefined) {
          stop();
          resolve(found);
        } else if (ended) {
          stop();
          reject(fail('exited without'));
        }
      };
      const timer = setTimeout(() => {
        stop();
        reject(fail(`printed within ${timeoutMs} ms no`));
      }, timeoutMs);
      const stop = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  const line = (match: string | ((text: string) => boolean), timeoutMs = 20_000) => {
    const test = typeof match === 'string' ? (text: string) => text === match : match;
    return waitFor(() => lines.find(test), 'the line wanted', timeoutMs);
  };
  let cursor = 0;
  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  return {
    process: child,
    lines,
    get stderr() {
      return stderr;
    },
    line,
    next(timeoutMs = 20_000) {
      const at = cursor++;
      return waitFor(() => lines[at], `line ${at + 1}`, timeoutMs);
    },
    async json<T>(match?: (value: T) => boolean, timeoutMs?: number) {
      const wanted = (text: string) => {
        const value = parse(text);
        return typeof value === 'object' && value !== null && (match === undefined || match(value as T));
      };
      return JSON.parse(await line(wanted, timeoutMs)) as T;
    },
    send(text) {
      if (child.stdin?.writable) child.stdin.write(`${text}\n`);
    },
    exited,
  };
}

/**
 * Throws, with the command that fixes it, when a package's build is missing: child processes import
 * the built package, and would otherwise fail with a module resolution error.
 */
export function assertBuilt(entry: URL, name: string): void {
  if (!existsSync(entry)) {
    throw new Error(
      `${fileURLToPath(entry)} is missing: build first (\`pnpm run build\`, or \`npx tsc -p tsconfig.build.json\` in packages/${name}).`,
    );
  }
}
