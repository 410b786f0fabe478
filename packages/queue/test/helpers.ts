import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** Polls `check` until it returns true, or throws naming `what` after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Configuration of test/fixtures/worker-child.mjs. */
export interface ChildConfig {
  url: string;
  name: string;
  prefix: string;
  concurrency?: number;
  leaseMs?: number;
  maxStalls?: number;
  pollIntervalMs?: number;
  workMs?: number;
  maxRunMs?: number;
}

/** A worker process and what it printed. */
export interface ChildWorker {
  child: ChildProcess;
  /** Ids whose handler started, in order (an id twice if it ran twice here). */
  started: string[];
  /** Ids whose completion this worker saw recorded. */
  completed: Set<string>;
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Asks for a graceful stop and waits for the exit. */
  stop(): Promise<void>;
}

const fixture = fileURLToPath(new URL('./fixtures/worker-child.mjs', import.meta.url));

/** Spawns a worker process running the built package. */
export function spawnWorker(config: ChildConfig): ChildWorker {
  const child = spawn(process.execPath, [fixture, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const started: string[] = [];
  const completed = new Set<string>();
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      markReady();
      resolve({ code, signal });
    });
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    if (line === 'READY') markReady();
    else if (line.startsWith('S ')) started.push(line.slice(2));
    else if (line.startsWith('C ')) completed.add(line.slice(2));
  });
  child.stdin?.on('error', () => {}); // writing to a killed child
  return {
    child,
    started,
    completed,
    ready,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.stdin?.end('stop\n');
      await exited;
    },
  };
}

export { sleep };
