import { execFileSync } from 'node:child_process';

function taskset(args: string[]): string | undefined {
  try {
    return execFileSync('taskset', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return undefined;
  }
}

/** CPUs this process may run on, from taskset's "current affinity list: 0-3,6"; undefined without taskset. */
export function allowedCpus(): number[] | undefined {
  const list = taskset(['-cp', String(process.pid)])
    ?.split(':')
    .pop()
    ?.trim();
  if (!list) return undefined;
  return list.split(',').flatMap((part) => {
    const [from, to = from] = part.split('-').map(Number);
    if (from === undefined || to === undefined) return [];
    return Array.from({ length: to - from + 1 }, (_, k) => from + k);
  });
}

/**
 * Puts redis-server on the last allowed CPU and this process on the first, so the client and the
 * server never fight for one core and ratios stay comparable run to run. `-a` moves every thread
 * (Node's GC and libuv workers, redis-server's bio threads), not only the main one.
 * Returns the line the header prints.
 */
export function pin(redisPid: number, disabled: boolean): string {
  if (disabled) return 'off (--no-pin)';
  const cpus = allowedCpus();
  if (!cpus) return 'off (taskset not found)';
  const bench = cpus[0];
  const redis = cpus[cpus.length - 1];
  if (bench === undefined || redis === undefined || cpus.length < 2) {
    return `off (only ${cpus.length} CPU available)`;
  }
  if (!taskset(['-a', '-cp', String(redis), String(redisPid)])) return 'off (taskset failed on redis-server)';
  if (!taskset(['-a', '-cp', String(bench), String(process.pid)]))
    return 'off (taskset failed on the benchmark)';
  return `redis-server (pid ${redisPid}) on CPU ${redis}, benchmark (pid ${process.pid}) on CPU ${bench}`;
}

/** Moves every thread of `pid` to `cpu` (`taskset -a -cp`); false when taskset is missing or refuses. */
export function pinProcess(pid: number, cpu: number): boolean {
  return taskset(['-a', '-cp', String(cpu), String(pid)]) !== undefined;
}
