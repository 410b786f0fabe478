import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.ts';
import { exited, forgetDir, isRunning, track, trackDir } from './processes.ts';
import { sendCommands } from './resp.ts';
import type { RedisServer } from './server.ts';

const READY_TIMEOUT_MS = 10_000;
const SPAWN_ATTEMPTS = 5;

/** Thrown when redis-server could not bind its port, so the caller can pick another one. */
class PortTakenError extends Error {}

/** Whether an executable with this name is on PATH. */
export function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The value of the last `--requirepass` in args: the harness must AUTH to probe such a server. */
export function passwordIn(args: string[]): string | undefined {
  const index = args.lastIndexOf('--requirepass');
  return index < 0 ? undefined : args[index + 1];
}

function logTail(log: string, lines = 20): string {
  try {
    return readFileSync(log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Ready means PING answers and INFO shows our pid: a foreign server on a reused port must not count. */
async function answers(
  port: number,
  pid: number | undefined,
  password: string | undefined,
): Promise<boolean> {
  const auth = password === undefined ? [] : [['AUTH', password]];
  const replies = await sendCommands(port, [...auth, ['INFO', 'server'], ['PING']], 500).catch(() => []);
  const [info, pong] = replies.slice(-2);
  return pong === '+PONG' && info?.includes(`process_id:${pid}\r\n`) === true;
}

/** Spawns redis-server on port with dir and args, resolves once it answers PING. */
async function launch(port: number, dir: string, args: string[], config?: string): Promise<ChildProcess> {
  const log = join(dir, 'redis.log');
  const base = ['--port', `${port}`, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
  const fixed = ['--protected-mode', 'no', '--daemonize', 'no', '--logfile', ''];
  // stdout and stderr go to a log in the temp dir: quiet tests, and startup errors still get recorded.
  const fd = openSync(log, 'a');
  // redis-server only reads a config file given as its first argument (sentinel mode needs one).
  const argv = [...(config === undefined ? [] : [config]), ...base, ...fixed, ...args];
  const child = track(spawn('redis-server', argv, { stdio: ['ignore', fd, fd] }));
  closeSync(fd);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isRunning(child)) {
      const tail = logTail(log);
      if (tail.includes('Address already in use')) throw new PortTakenError(`port ${port} is taken`);
      throw new Error(`redis-server on port ${port} exited before answering PING; log tail:\n${tail}`);
    }
    if (await answers(port, child.pid, passwordIn(args))) return child;
    await sleep(50);
  }
  child.kill('SIGKILL');
  await exited(child);
  throw new Error(
    `redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms; log tail:\n${logTail(log)}`,
  );
}

/** Graceful stop: SIGCONT first in case it is paused, SIGTERM, and SIGKILL if it lingers. */
async function terminate(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return;
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited(child);
  clearTimeout(timer);
}

/** Spawns redis-server with a fresh temp dir on a free loopback port (retrying a port someone took). */
export async function startBinary(
  args: string[],
  pickPort = freePort,
  writeConfig?: (dir: string) => Promise<string>,
): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-patterns-'));
  trackDir(dir);
  const config = writeConfig === undefined ? undefined : await writeConfig(dir);
  for (let attempt = 1; ; attempt++) {
    const port = await pickPort();
    try {
      return binaryServer(port, dir, args, await launch(port, dir, args, config), config);
    } catch (error) {
      if (error instanceof PortTakenError && attempt < SPAWN_ATTEMPTS) continue;
      await rm(dir, { recursive: true, force: true });
      forgetDir(dir);
      throw error;
    }
  }
}

function binaryServer(
  port: number,
  dir: string,
  args: string[],
  first: ChildProcess,
  config: string | undefined,
): RedisServer {
  let child = first;
  let stopping: Promise<void> | undefined;
  const running = (): ChildProcess => {
    if (stopping || !isRunning(child)) throw new Error(`redis-server on port ${port} is not running`);
    return child;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    source: 'binary',
    canFault: true,
    stop() {
      stopping ??= (async () => {
        await terminate(child);
        await rm(dir, { recursive: true, force: true });
        forgetDir(dir);
      })();
      return stopping;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async restart() {
      if (stopping) throw new Error(`redis-server on port ${port} was stopped; it cannot restart`);
      await terminate(child);
      try {
        child = await launch(port, dir, args, config);
      } catch (error) {
        if (!(error instanceof PortTakenError)) throw error;
        throw new Error(`Cannot restart redis-server: port ${port} was taken by another process meanwhile`);
      }
    },
    async pause() {
      running().kill('SIGSTOP');
    },
    async resume() {
      running().kill('SIGCONT');
    },
  };
}
