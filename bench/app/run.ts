// The end-to-end app bench: the same Express app built three ways (ours, the peers', no Redis),
// each in a child process pinned to one core, driven by autocannon from a process that shares the
// other core with redis-server. See bench/README.md ("The app bench").
//   npx tsx app/run.ts [--duration MS] [--warmup MS] [--rounds N] [--connections N] ...
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRedis } from '@redis-patterns/testing';
import { createClient } from 'redis';
import { allowedCpus, pinProcess } from '../pin.ts';
import {
  countCommands,
  drive,
  type InfoReader,
  loginCookies,
  QUIESCE_MS,
  type Route,
  readCounters,
} from './load.ts';
import { type AppMessage, PRODUCTS, STACKS, type StackName } from './stacks.ts';
import { type AppResult, formatAppTable, formatFleetLines, median } from './table.ts';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--'));
const { values: flags } = parseArgs({
  args: argv,
  options: {
    duration: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    probe: { type: 'string', default: '1000' },
    settle: { type: 'string', default: '5500' },
    cookies: { type: 'string', default: '100' },
    json: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
  },
});
function count(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${name} wants an integer >= ${min}: ${text}`);
  return value;
}
const durationMs = count('duration', flags.duration, 100);
const warmupMs = count('warmup', flags.warmup, 0);
const rounds = count('rounds', flags.rounds, 1);
const connections = count('connections', flags.connections, 1);
const probeMs = count('probe', flags.probe, 0);
const settleMs = count('settle', flags.settle, 0);
const cookieCount = count('cookies', flags.cookies, 1);

const ROUTES: Array<Route & { connections: number }> = [
  {
    name: 'GET /product/:id',
    method: 'GET',
    path: (i) => `/product/${i % PRODUCTS}`,
    loggedIn: true,
    connections,
  },
  { name: 'GET /me', method: 'GET', path: () => '/me', loggedIn: true, connections },
  // A logged-in request that changes its session: one property written back (a save).
  { name: 'POST /cart', method: 'POST', path: (i) => `/cart/${i % PRODUCTS}`, loggedIn: true, connections },
  // Each request a new visitor logging in: one at a time, for the latency a user waits.
  { name: 'POST /login', method: 'POST', path: (i) => `/login?user=u${i}`, loggedIn: false, connections: 1 },
];

/** A running app: its base URL, and its CPU time read over IPC. */
interface App {
  name: StackName;
  base: string;
  child: ChildProcess;
  /** The app's CPU time so far (µs) and the requests it has received. */
  usage(): Promise<{ micros: number; requests: number }>;
  cookies: string[];
}

async function startApp(name: StackName, url: string, cpu: number | undefined): Promise<App> {
  const child = spawn(process.execPath, [...process.execArgv, join(here, 'server.ts'), name, url], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (type: AppMessage['type']) =>
    new Promise<AppMessage>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the ${name} app exited with ${code}`));
      child.once('exit', onExit);
      const onMessage = (message: AppMessage) => {
        if (message.type !== type) return;
        child.off('message', onMessage).off('exit', onExit);
        resolve(message);
      };
      child.on('message', onMessage);
    });
  const ready = await next('ready');
  if (ready.type !== 'ready') throw new Error('unreachable');
  if (cpu !== undefined && child.pid !== undefined && !pinProcess(child.pid, cpu)) {
    throw new Error(`taskset failed on the ${name} app`);
  }
  const base = `http://127.0.0.1:${ready.port}`;
  return {
    name,
    base,
    child,
    cookies: await loginCookies(base, cookieCount),
    async usage() {
      const answer = next('usage');
      child.send({ type: 'usage' } satisfies AppMessage);
      const message = await answer;
      if (message.type !== 'usage' || !('micros' in message)) throw new Error('unreachable');
      return message;
    },
  };
}

async function stopApp(app: App): Promise<void> {
  const exited = new Promise((resolve) => app.child.once('exit', resolve));
  if (app.child.connected) app.child.send({ type: 'close' } satisfies AppMessage);
  await Promise.race([exited, sleep(5_000)]);
  if (app.child.exitCode === null) app.child.kill('SIGKILL');
}

type Stats = InfoReader;
type Monitored = Pick<AppResult, 'sentPerReq' | 'inScriptsPerReq'>;

/** Counts what one app sends per request on one route, in a MONITOR window of its own. */
async function probe(server: { host: string; port: number }, app: App, route: (typeof ROUTES)[number]) {
  const before = await app.usage();
  const counted = await countCommands(server.host, server.port, async () => {
    await drive(app.base, route, {
      connections: route.connections,
      cookies: app.cookies,
      durationMs: probeMs,
    });
  });
  const served = (await app.usage()).requests - before.requests;
  return { sentPerReq: counted.sent / served, inScriptsPerReq: counted.inScripts / served };
}

/** One measured window of one app on one route, between counter reads. */
async function measureWindow(
  stats: Stats,
  app: App,
  route: (typeof ROUTES)[number],
  round: number,
  monitored: Monitored | undefined,
): Promise<AppResult> {
  const usageBefore = await app.usage();
  const before = await readCounters(stats);
  const window = await drive(app.base, route, {
    connections: route.connections,
    cookies: app.cookies,
    durationMs,
  });
  // The counters close once the requests left in flight are served too: the app counted them.
  await sleep(QUIESCE_MS);
  const after = await readCounters(stats);
  const usageAfter = await app.usage();
  const n = usageAfter.requests - usageBefore.requests;
  return {
    route: route.name,
    stack: app.name,
    connections: route.connections,
    round,
    requests: window.requests,
    served: n,
    reqPerSec: window.reqPerSec,
    p50Ms: window.p50Ms,
    p99Ms: window.p99Ms,
    appCpuUsPerReq: (usageAfter.micros - usageBefore.micros) / n,
    redisCpuUsPerReq: (after.cpuMicros - before.cpuMicros) / n,
    // The delta includes the INFO that read `before`.
    commandsPerReq: (after.calls - before.calls - 1) / n,
    ...monitored,
    failures: window.failures,
  };
}

/** Every round: each route on each app in turn (ours, peers, none), warmed up first. */
async function measureAll(server: { host: string; port: number }, stats: Stats, apps: App[]) {
  const samples = new Map<string, AppResult[]>();
  const monitor = new Map<string, Monitored>();
  // A first, longer warm-up of every route, so round 1 does not measure the JIT's work.
  for (const app of apps) {
    for (const route of ROUTES) {
      await drive(app.base, route, {
        connections: route.connections,
        cookies: app.cookies,
        durationMs: 2 * warmupMs,
      });
    }
  }
  for (let round = 1; round <= rounds; round++) {
    for (const route of ROUTES) {
      for (const app of apps) {
        const id = `${route.name}|${app.name}`;
        const warmup = { connections: route.connections, cookies: app.cookies, durationMs: warmupMs };
        await drive(app.base, route, warmup);
        await sleep(QUIESCE_MS);
        if (round === 1 && app.name !== 'none' && probeMs > 0)
          monitor.set(id, await probe(server, app, route));
        const result = await measureWindow(stats, app, route, round, monitor.get(id));
        samples.set(id, [...(samples.get(id) ?? []), result]);
        const warn = result.failures > 0 ? ` (${result.failures} FAILED)` : '';
        console.error(
          `  round ${round}/${rounds} ${route.name} ${app.name}: ${Math.round(result.reqPerSec)} req/s, ` +
            `${result.commandsPerReq.toFixed(2)} cmds/req${warn}`,
        );
        // node-redis 6 leaves a 5 s timer per command of the peers' clients: let them run out
        // before the next app is measured on the same core.
        if (app.name === 'peers') await sleep(settleMs);
      }
    }
  }
  return samples;
}

/** Pins redis-server and this process (autocannon) to the last allowed CPU; returns the apps' CPU. */
function pinAll(redisPid: number): { appCpu: number | undefined; pinning: string } {
  const cpus = flags['no-pin'] ? undefined : allowedCpus();
  const [appCpu, loadCpu] = cpus && cpus.length >= 2 ? [cpus[0], cpus[cpus.length - 1]] : [];
  if (appCpu === undefined || loadCpu === undefined) {
    return { appCpu: undefined, pinning: flags['no-pin'] ? 'off (--no-pin)' : 'off (no taskset or 1 CPU)' };
  }
  if (!pinProcess(redisPid, loadCpu) || !pinProcess(process.pid, loadCpu)) throw new Error('taskset failed');
  return { appCpu, pinning: `apps on CPU ${appCpu}; redis-server and autocannon on CPU ${loadCpu}` };
}

function report(samples: Map<string, AppResult[]>, pinning: string): void {
  const results = [...samples.values()].map(median);
  console.log(formatAppTable(results, [...samples.values()].flat()));
  console.log('\nFleet capacity (1e6 / Redis µs per request):\n');
  console.log(formatFleetLines(results));
  const failed = results.filter((r) => r.failures > 0 || (r.stack !== 'none' && !(r.commandsPerReq >= 1)));
  if (failed.length > 0) {
    const names = failed.map((r) => `${r.route} ${r.stack}`).join(', ');
    console.error(`\nSuspect rows (failed requests, or a Redis stack under 1 command a request): ${names}`);
    process.exitCode = 1;
  }
  const date = new Date().toISOString();
  const file = flags.json
    ? resolve(process.env.INIT_CWD ?? process.cwd(), flags.json)
    : join(here, '..', 'results', `app-${date.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const meta = { date, node: process.version, pinning, durationMs, warmupMs, rounds };
  writeFileSync(file, `${JSON.stringify({ meta, results, rounds: [...samples.values()] }, null, 2)}\n`);
  console.log(`\nResults written to ${file}`);
}

async function main(): Promise<void> {
  const server = await startRedis({ forceBinary: true });
  const stats = createClient({ url: server.url });
  stats.on('error', (error) => console.error('stats connection:', error));
  const apps: App[] = [];
  try {
    await stats.connect();
    const info = await stats.info('server');
    const { appCpu, pinning } = pinAll(Number(info.match(/^process_id:(\d+)/m)?.[1]));
    console.log('# redis-patterns app bench\n');
    console.log(
      `- node ${process.version}, redis ${info.match(/^redis_version:(.*)\r?$/m)?.[1]} (own server)`,
    );
    console.log(`- pinning: ${pinning}`);
    console.log(
      `- ${durationMs} ms windows after ${warmupMs} ms warm-up, ${rounds} interleaved rounds, the median of each column reported\n`,
    );
    for (const name of STACKS) apps.push(await startApp(name, server.url, appCpu));
    report(await measureAll(server, stats, apps), pinning);
  } finally {
    await Promise.all(apps.map(stopApp));
    await stats.close().catch(() => stats.destroy());
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
