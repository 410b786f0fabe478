// Runs programs with node against a throwaway Redis: each must exit with 0 by itself, in time.
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { startRedisServer } from './redis-server.mjs';

/** How long a snippet may take before it counts as hung. */
export const RUN_TIMEOUT_MS = 20_000;

const tail = (text, lines = 15) => text.trimEnd().split('\n').slice(-lines).join('\n');

/**
 * Runs `node file` with REDIS_URL set; resolves with null when it exited 0 within the timeout,
 * else with what went wrong (and the tail of its output). The process group is killed on timeout,
 * so a child it started cannot outlive it.
 */
export function runProgram(file, redisUrl, timeoutMs = RUN_TIMEOUT_MS) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], {
      cwd: dirname(file),
      env: { ...process.env, REDIS_URL: redisUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    let timedOut = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    process.on('exit', killGroup); // the checker stopped early: leave nothing running
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', killGroup);
      const shown = output.trim() ? `\n${tail(output).replace(/^/gm, '    ')}` : '';
      if (timedOut)
        resolve(
          `did not exit within ${timeoutMs / 1000} s: something it opened is still open ` +
            `(close the pattern objects, then the connection) or it waits forever${shown}`,
        );
      else if (code !== 0) resolve(`exited with ${signal ?? `code ${code}`}${shown}`);
      else resolve(null);
    });
  });
}

/**
 * Runs each job ({ label, file }) with at most `parallel` at a time. Each lane has its own
 * redis-server, flushed before every job, so no job sees another's keys or pub/sub messages.
 * Resolves with the failures as `label: what went wrong`.
 */
export async function runAll(jobs, { parallel = 2, onDone = () => {} } = {}) {
  if (jobs.length === 0) return [];
  const lanes = Math.max(1, Math.min(parallel, jobs.length));
  const servers = [];
  const failures = [];
  let next = 0;
  try {
    for (let i = 0; i < lanes; i++) servers.push(await startRedisServer());
    await Promise.all(
      servers.map(async (server) => {
        while (next < jobs.length) {
          const job = jobs[next++];
          await server.flushAll();
          const problem = await runProgram(job.file, server.url);
          if (problem !== null) failures.push(`${job.label}: ${problem}`);
          onDone(job, problem);
        }
      }),
    );
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
  return failures;
}
