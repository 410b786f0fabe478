import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** Child processes import the built package: fail with the fix rather than a resolution error. */
export function assertBuilt(): void {
  if (!existsSync(dist)) {
    throw new Error(
      'packages/lock/dist is missing: run `npx tsc -p tsconfig.build.json` in packages/lock first.',
    );
  }
}

/** A `test/fixtures/*.mjs` child that prints one JSON object per line. */
export interface Fixture {
  readonly process: ChildProcess;
  /** Every line parsed so far. */
  readonly lines: Array<Record<string, unknown>>;
  /** Resolves with the first line (past or future) matching `match`; rejects after `timeoutMs`. */
  next(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

/** Spawns `test/fixtures/<file>` with `args` as JSON; `stdin: true` gives the child a pipe to read. */
export function spawnFixture(file: string, args: unknown, options: { stdin?: boolean } = {}): Fixture {
  const script = fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
  const child = spawn(process.execPath, [script, JSON.stringify(args)], {
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const listeners = new Set<() => void>();
  let buffered = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      lines.push(JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>);
      buffered = buffered.slice(nl + 1);
      for (const listener of listeners) listener();
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    lines,
    exited,
    next(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find(match);
          if (line === undefined) return;
          done();
          resolve(line);
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `${file}: no matching line within ${timeoutMs} ms; got ${JSON.stringify(lines)}; stderr: ${stderr}`,
            ),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}
