// The load side of the app bench: logged-in cookies, autocannon windows, and the Redis counters.
import { connect as connectTcp } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { serverCpuMicros, totalCalls } from '../measure.ts';

/** A route as the load generator drives it. */
export interface Route {
  /** The name in the table. */
  name: string;
  method: 'GET' | 'POST';
  /** The path of the i-th request. */
  path(i: number): string;
  /** Whether each connection carries a logged-in session cookie. */
  loggedIn: boolean;
}

export interface Window {
  /** 2xx responses. */
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses other than 2xx, plus socket errors and timeouts: any of them voids the window. */
  failures: number;
}

/** Where the next connection takes its cookie from the pool: windows go round the whole pool. */
let nextCookie = 0;

/** How long the requests a window left in flight take to finish, generously. */
export const QUIESCE_MS = 250;

/** Logs `count` users in, one request each, and returns their `sid=...` cookies. */
export async function loginCookies(base: string, count: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${base}/login?user=pool-${i}`, { method: 'POST' });
    const cookie = response.headers.get('set-cookie')?.split(';')[0];
    if (response.status !== 200 || !cookie?.startsWith('sid=')) {
      throw new Error(`login ${i} answered ${response.status} without a session cookie`);
    }
    cookies.push(cookie);
  }
  return cookies;
}

/**
 * Drives `route` with autocannon for `durationMs` over `connections` keep-alive connections.
 * Each connection gets the next cookie of the pool (rotating), so every request is a logged-in one.
 */
export async function drive(
  base: string,
  route: Route,
  options: { connections: number; durationMs: number; cookies: string[] },
): Promise<Window> {
  let request = 0;
  const { cookies } = options;
  // autocannon's own percentiles are whole milliseconds; a login at one connection takes about one.
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: base,
        connections: options.connections,
        duration: options.durationMs / 1000,
        setupClient(c) {
          const cookie = cookies[nextCookie++ % Math.max(1, cookies.length)];
          if (route.loggedIn && cookie) c.setHeaders({ cookie });
        },
        requests: [
          {
            method: route.method,
            setupRequest(req) {
              req.path = route.path(request++);
              return req;
            },
          },
        ],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  const ok = result['2xx'];
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return {
    requests: ok,
    reqPerSec: ok / result.duration,
    p50Ms: at(0.5) ?? Number.NaN,
    p99Ms: at(0.99) ?? Number.NaN,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** Redis's counters, read on the bench's own connection (never the app's). */
export interface RedisCounters {
  cpuMicros: number;
  calls: number;
}

/** The one call readCounters makes, so any node-redis client type fits. */
export interface InfoReader {
  info(section: string): Promise<string>;
}

/** One `INFO all`: CPU and commandstats at the same instant. The delta of two includes one INFO. */
export async function readCounters(stats: InfoReader): Promise<RedisCounters> {
  const info = await stats.info('all');
  return { cpuMicros: serverCpuMicros(info), calls: totalCalls(info) };
}

/**
 * Counts the commands Redis executes while `work` runs, from a MONITOR feed: commands that clients
 * sent, and commands that scripts ran inside Redis (MONITOR shows those as `[db lua]`). MONITOR
 * slows Redis down, so this runs in a window of its own, never in a measured one.
 */
export async function countCommands(
  host: string,
  port: number,
  work: () => Promise<void>,
): Promise<{ sent: number; inScripts: number }> {
  const socket = connectTcp({ host, port });
  let sent = 0;
  let inScripts = 0;
  let pending = '';
  let started!: () => void;
  const ready = new Promise<void>((resolve, reject) => {
    started = resolve;
    socket.once('error', reject);
  });
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\r\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '+OK') started();
      else if (/^\+\d+\.\d+ \[\d+ lua\]/.test(line)) inScripts++;
      else if (line.startsWith('+')) sent++;
    }
  });
  socket.write('MONITOR\r\n');
  await ready;
  try {
    await work();
    // The requests still in flight at the window's end, and the feed trailing the replies.
    await sleep(QUIESCE_MS);
  } finally {
    socket.destroy();
  }
  return { sent, inScripts };
}
