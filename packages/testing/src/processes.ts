import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

// One registry per process, even when the module is loaded once per vitest project (each project's
// global setup gets its own module instance): one exit hook, not one per project.
interface Registry {
  live: Set<ChildProcess>;
  dirs: Set<string>;
  hooked: boolean;
}
const slot = Symbol.for('redis-patterns.testing.processes');
const holder = globalThis as { [slot]?: Registry };
holder[slot] ??= { live: new Set(), dirs: new Set(), hooked: false };
const shared = holder[slot];
/** Children still running: the exit hook SIGKILLs them so no redis-server outlives the test process. */
const live = shared.live;
/** Temp dirs a graceful stop has not removed yet. */
const dirs = shared.dirs;

function cleanUp(): void {
  for (const child of live) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

function hookExit(): void {
  if (shared.hooked) return;
  shared.hooked = true;
  // 'exit' handlers must be synchronous: kill() and rmSync() are.
  process.on('exit', cleanUp);
  // A signal's default action skips 'exit' (vitest stops its fork workers with SIGTERM), so clean up
  // first, then re-raise it for its default action unless someone else handles it.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanUp();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Registers a child so it is SIGKILLed if this process exits while the child still runs. */
export function track<T extends ChildProcess>(child: T): T {
  hookExit();
  live.add(child);
  const forget = () => live.delete(child);
  child.once('exit', forget);
  child.once('error', forget); // a failed spawn emits 'error' and never 'exit'
  // A forgotten stop() must not keep the test process alive; the exit hook still kills the child.
  child.unref();
  return child;
}

/** Registers a temp dir to remove at exit unless {@link forgetDir} is called first. */
export function trackDir(dir: string): void {
  hookExit();
  dirs.add(dir);
}

/** Unregisters a temp dir the caller has removed itself. */
export function forgetDir(dir: string): void {
  dirs.delete(dir);
}

/** Whether the child was spawned and has not exited yet. */
export function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Resolves once the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return Promise.resolve();
  child.ref(); // it was unref'd: keep the event loop alive while someone awaits the exit
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
