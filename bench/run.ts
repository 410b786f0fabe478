import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startRedis } from '@redis-patterns/testing';
import { createClient } from 'redis';
import { measure, serverCpuMicros, totalCalls } from './measure.ts';
import { pin } from './pin.ts';
import { formatFleetCapacity, formatTable } from './report.ts';
import type { RowResult, Scenario, ScenarioResult } from './scenario.ts';

const here = dirname(fileURLToPath(import.meta.url));

// pnpm forwards `pnpm bench -- --x` with the `--`; drop it so parseArgs sees the flags.
const argv = process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--'));
const { values: flags } = parseArgs({
  args: argv,
  options: {
    scenario: { type: 'string', multiple: true },
    duration: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '1' },
    inflight: { type: 'string' },
    json: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    // Internal: run the one scenario given in this process (see isolate()).
    child: { type: 'boolean', default: false },
  },
});

function count(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${name} wants an integer >= ${min}: ${text}`);
  return value;
}
const durationMs = count('duration', flags.duration, 1);
const warmupMs = count('warmup', flags.warmup, 0);
const rounds = count('rounds', flags.rounds, 1);
const inflightOverride = flags.inflight?.split(',').map((n) => count('inflight', n.trim(), 1));

/** Every bench/scenarios/*.ts, narrowed by --scenario (matching the scenario name or the file name). */
async function loadScenarios(): Promise<Scenario[]> {
  const dir = join(here, 'scenarios');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort();
  const all = await Promise.all(
    files.map(async (f) => ({
      file: basename(f, '.ts'),
      scenario: (await import(pathToFileURL(join(dir, f)).href)).default as Scenario,
    })),
  );
  const wanted = flags.scenario;
  if (!wanted) return all.map((s) => s.scenario);
  return wanted.map((name) => {
    const found = all.find((s) => s.scenario.name === name || s.file === name);
    if (!found) throw new Error(`No scenario ${name}; have: ${all.map((s) => s.scenario.name).join(', ')}`);
    return found.scenario;
  });
}

function cpuModel(): string {
  const line = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
  return line?.[1] ?? cpus()[0]?.model ?? 'unknown';
}

const infoField = (info: string, field: string) => info.match(new RegExp(`^${field}:(.*)\\r?$`, 'm'))?.[1];

/** Where the results go: --json (relative to where the user ran pnpm, INIT_CWD), else bench/results/. */
function resultsFile(date: string): string {
  const stamp = date.replace(/[:.]/g, '-');
  return flags.json
    ? resolve(process.env.INIT_CWD ?? process.cwd(), flags.json)
    : join(here, 'results', `${stamp}.json`);
}

/**
 * Runs each scenario in a process of its own, against a redis-server of its own, and merges their
 * results. In one process, a scenario measured after others ran up to 2x slower than alone (the
 * session store at 50 in flight: 63-104k reads/s after the lock and queue scenarios, 142-147k
 * alone), from the JIT and heap state the earlier scenarios left; a fresh process measures every
 * scenario as a user's application would run it.
 */
async function isolate(scenarios: Scenario[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-patterns-bench-'));
  // Ctrl-C reaches the children too (one process group); they stop their own servers.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  }
  const passed = ['duration', 'warmup', 'rounds', 'inflight'] as const;
  const common = passed.flatMap((name) =>
    flags[name] === undefined ? [] : [`--${name}`, String(flags[name])],
  );
  if (flags['no-pin']) common.push('--no-pin');
  try {
    const parts: Array<{ meta: { date: string }; scenarios: ScenarioResult[] }> = [];
    for (const [i, scenario] of scenarios.entries()) {
      const file = join(dir, `${i}.json`);
      const args = [
        ...process.execArgv,
        fileURLToPath(import.meta.url),
        '--child',
        '--scenario',
        scenario.name,
      ];
      const exit = await new Promise<string>((done, fail) =>
        spawn(process.execPath, [...args, ...common, '--json', file], { stdio: 'inherit' })
          .on('error', fail)
          .on('exit', (code, signal) => done(signal ?? String(code))),
      );
      if (exit !== '0') throw new Error(`The ${scenario.name} scenario's process ended with ${exit}.`);
      parts.push(JSON.parse(readFileSync(file, 'utf8')));
    }
    const first = parts[0] as (typeof parts)[0];
    const meta = { ...first.meta, isolation: 'a process and a redis-server per scenario' };
    const file = resultsFile(meta.date);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      `${JSON.stringify({ meta, scenarios: parts.flatMap((p) => p.scenarios) }, null, 2)}\n`,
    );
    console.log(`Results of ${scenarios.length} scenarios written to ${file}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `--scenario app` is the end-to-end app bench (app/run.ts): HTTP apps in processes of their own
 * rather than rows of op() calls, so it runs as a process of its own with the flags it shares.
 */
async function appBench(): Promise<void> {
  if (flags.scenario?.length !== 1) throw new Error('Run --scenario app on its own.');
  const shared = (['duration', 'warmup', 'rounds', 'json'] as const).flatMap((name) =>
    argv.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`))
      ? [`--${name}`, String(flags[name])]
      : [],
  );
  if (flags['no-pin']) shared.push('--no-pin');
  const exit = await new Promise<string>((done, fail) =>
    spawn(process.execPath, [...process.execArgv, join(here, 'app', 'run.ts'), ...shared], {
      stdio: 'inherit',
    })
      .on('error', fail)
      .on('exit', (code, signal) => done(signal ?? String(code))),
  );
  if (exit !== '0') throw new Error(`The app bench ended with ${exit}.`);
}

async function main(): Promise<void> {
  if (flags.scenario?.includes('app')) return appBench();
  const scenarios = await loadScenarios();
  if (!flags.child && scenarios.length > 1) {
    console.log('# redis-patterns bench (each scenario in a fresh process, with a fresh redis-server)\n');
    await isolate(scenarios);
    return;
  }
  // Always our own redis-server: a shared one's other clients would skew every number.
  const server = await startRedis({ forceBinary: true });
  // Ctrl-C mid-run: exit at once; the testing package's exit hook kills the server and removes its
  // dir before the clients under test can print connection errors about it.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping redis-server on port ${server.port}`);
      process.exit(130);
    });
  }
  // A plain connection of its own for INFO, so reading the counters never queues behind the load.
  const stats = createClient({ url: server.url });
  stats.on('error', (error) => console.error('stats connection:', error));
  try {
    await stats.connect();
    const serverInfo = await stats.info('server');
    const pid = Number(infoField(serverInfo, 'process_id'));
    const meta = {
      date: new Date().toISOString(),
      node: process.version,
      redis: infoField(serverInfo, 'redis_version') ?? 'unknown',
      cpu: cpuModel(),
      cpus: cpus().length,
      pinning: pin(pid, flags['no-pin']),
      durationMs,
      warmupMs,
      rounds,
    };
    if (!flags.child) console.log(`# redis-patterns bench\n`);
    console.log(`- node ${meta.node}, redis-server ${meta.redis} (own instance, ${server.url})`);
    console.log(`- CPU: ${meta.cpu} (${meta.cpus} CPUs)`);
    console.log(`- pinning: ${meta.pinning}`);
    console.log(
      `- ${durationMs} ms per measurement after ${warmupMs} ms warmup; ${rounds} round(s), median reported\n`,
    );

    const readCalls = async () => totalCalls(await stats.info('commandstats'));
    // What one INFO adds to the counters, measured rather than assumed (it does not count itself).
    const first = await readCalls();
    const readOverhead = (await readCalls()) - first;
    const readServerCpu = async () => serverCpuMicros(await stats.info('cpu'));

    const output: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      const ctx = { url: server.url };
      await scenario.setup?.(ctx);
      // Each round measures every row once (made, measured, closed: no other row's clients open
      // meanwhile), so a slow spell of the machine hits all rows alike. A row reports its median round.
      const inflights = inflightOverride ?? scenario.inflight ?? [1, 50];
      const samples = new Map<string, RowResult[]>();
      for (let round = 1; round <= rounds; round++) {
        for (const row of scenario.rows) {
          const runner = await row.make(ctx);
          try {
            for (const inflight of inflights) {
              const m = await measure(runner, {
                inflight,
                durationMs,
                warmupMs,
                readCalls,
                readOverhead,
                readServerCpu,
              });
              const group = row.group === undefined ? {} : { group: row.group };
              const result: RowResult = {
                row: row.name,
                peer: row.peer,
                ...group,
                inflight,
                opsPerSec: m.opsPerSec,
                p50Ms: m.p50Ms,
                p99Ms: m.p99Ms,
                commandsPerOp: m.commandsPerOp,
                nodeCpuUsPerOp: m.nodeCpuUsPerOp,
                redisCpuUsPerOp: m.redisCpuUsPerOp,
              };
              const id = `${row.name}@${inflight}`;
              samples.set(id, [...(samples.get(id) ?? []), result]);
              const of = rounds > 1 ? ` (round ${round}/${rounds})` : '';
              console.error(
                `  ${scenario.name}: ${row.name} @${inflight}${of}: ${Math.round(m.opsPerSec)} ops/s`,
              );
            }
          } finally {
            await runner.close();
          }
          if (row.settleMs) await sleep(row.settleMs);
        }
      }
      const results = [...samples.values()].map((list) => median(list));
      output.push({ name: scenario.name, description: scenario.description, results });
      console.log(`\n## ${scenario.name}: ${scenario.description}\n\n${formatTable(results)}\n`);
      const fleet = formatFleetCapacity(results);
      if (fleet) console.log(`Fleet capacity (1e6 / Redis µs per op):\n\n${fleet}\n`);
    }

    const file = resultsFile(meta.date);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ meta, scenarios: output }, null, 2)}\n`);
    if (!flags.child) console.log(`Results written to ${file}`);
  } finally {
    await stats.close().catch(() => stats.destroy());
    await server.stop();
  }
}

/** The round with the median ops/s (the lower middle one for an even count). */
function median(list: RowResult[]): RowResult {
  const sorted = [...list].sort((a, b) => a.opsPerSec - b.opsPerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)] as RowResult;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
