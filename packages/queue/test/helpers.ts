import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { RedisConnection } from '@redis-patterns/connection';
import { type ChildExit, startChild } from '@redis-patterns/testing';

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
  readonly started: string[];
  /** Ids whose completion this worker saw recorded. */
  readonly completed: Set<string>;
  ready: Promise<void>;
  exited: Promise<ChildExit>;
  /** Asks for a graceful stop and waits for the exit. */
  stop(): Promise<void>;
}

const fixture = fileURLToPath(new URL('./fixtures/worker-child.mjs', import.meta.url));

/** Spawns a worker process running the built package; it prints READY, then `S <id>` and `C <id>` lines. */
export function spawnWorker(config: ChildConfig): ChildWorker {
  const worker = startChild(fixture, [JSON.stringify(config)], { stderr: 'inherit' });
  const ids = (tag: string) =>
    worker.lines.filter((line) => line.startsWith(tag)).map((line) => line.slice(2));
  return {
    child: worker.process,
    get started() {
      return ids('S ');
    },
    get completed() {
      return new Set(ids('C '));
    },
    // Also settles if the worker dies first: the test then finds it exited.
    ready: worker.line('READY', 30_000).then(
      () => {},
      () => {},
    ),
    exited: worker.exited,
    async stop() {
      if (worker.process.exitCode === null && worker.process.signalCode === null)
        worker.process.stdin?.end('stop\n');
      await worker.exited;
    },
  };
}

export { sleep };

/** The same connection, with every schedule fire sent `ms` late (as over a slow or congested link). */
export function delayingFires(redis: RedisConnection, ms: number): RedisConnection {
  const runScript: RedisConnection['runScript'] = async (script, ...rest) => {
    if (script.name.endsWith(':scheduleFire')) await sleep(ms);
    return redis.runScript(script, ...rest);
  };
  return new Proxy(redis, {
    get(target, property) {
      if (property === 'runScript') return runScript;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
