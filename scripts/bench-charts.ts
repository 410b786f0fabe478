/**
 * Turns a bench results file into the reference site's benchmarks page: one SVG bar chart per
 * scenario and in-flight level (our rows, peer libraries and ceilings each in their colour, with a
 * legend) and a markdown page around them, with bench/README.md as its child page.
 *   tsx scripts/bench-charts.ts [results.json]     (default docs/benchmarks/results.json)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatFleetCapacity, formatTable, isCeiling } from '../bench/report.ts';
import type { RowResult as Result } from '../bench/scenario.ts';
import { type BarKind, barChart, barStyles } from './bar-chart.ts';

interface Results {
  meta: {
    date: string;
    node: string;
    redis: string;
    cpu: string;
    pinning: string;
    durationMs: number;
    rounds?: number;
    isolation?: string;
  };
  scenarios: Array<{ name: string; description: string; results: Result[] }>;
}

const root = resolve(import.meta.dirname, '..');
const input = resolve(process.argv[2] ?? join(root, 'docs', 'benchmarks', 'results.json'));
const out = join(root, 'docs', 'benchmarks');
const data = JSON.parse(readFileSync(input, 'utf8')) as Results;
mkdirSync(out, { recursive: true });

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A ceiling row does the least work the job allows (bare commands, or no Redis): a bound, not a peer. */
const kindOf = (r: Result): BarKind => (isCeiling(r) ? 'ceiling' : r.peer ? 'peer' : 'ours');

/** A horizontal bar chart of ops/s, longest bar = the fastest row. */
const chart = (title: string, rows: Result[]) =>
  barChart(
    title,
    rows.map((r) => ({
      label: r.row,
      value: r.opsPerSec,
      valueText: `${fmt.format(r.opsPerSec)}/s`,
      kind: kindOf(r),
    })),
  );

const sections: string[] = [];
for (const scenario of data.scenarios) {
  const levels = [...new Set(scenario.results.map((r) => r.inflight))].sort((a, b) => a - b);
  const images = levels.map((level) => {
    const file = `${scenario.name}-${level}.svg`;
    const rows = scenario.results.filter((r) => r.inflight === level);
    writeFileSync(join(out, file), chart(`${scenario.name}: ops/s at ${level} in flight`, rows));
    return `![${scenario.name} at ${level} in flight](benchmarks/${file})`;
  });
  sections.push(
    `## ${scenario.name}\n\n${scenario.description}\n\n${images.join('\n\n')}\n${costs(scenario.results)}`,
  );
}

/**
 * The scenario's full table as the bench prints it (latency, commands, Node and Redis CPU per op)
 * and its fleet capacity lines; nothing for results recorded before the CPU columns existed.
 */
function costs(results: Result[]): string {
  if (!results.some((r) => r.redisCpuUsPerOp !== undefined)) return '';
  const fleet = formatFleetCapacity(results);
  const capacity = fleet
    ? `\nFleet capacity, the ops/s one Redis core serves (1e6 / Redis µs per op):\n\n${fleet}\n`
    : '';
  return `\n${formatTable(results)}\n${capacity}`;
}

const { meta } = data;
const rounds =
  (meta.rounds ?? 1) > 1 ? `, the median of ${meta.rounds} rounds measured with the rows interleaved` : '';
const colour = (kind: BarKind) => barStyles[kind].colourName;
writeFileSync(
  join(root, 'docs', 'benchmarks.md'),
  `---
title: Benchmarks
children:
  Running the benchmarks: ../bench/README.md
---

# Benchmarks

Our packages against the libraries people use for the same job, measured in one run
on one machine${meta.isolation ? ` (${meta.isolation})` : ' against one Redis'}: ${escapeXml(meta.cpu)}, node ${meta.node}, redis-server ${meta.redis},
${meta.pinning.replace(/ \(pid \d+\)/g, '')}, ${meta.durationMs} ms per measurement${rounds}, ${meta.date.slice(0, 10)}. The charts show
throughput; under them, each scenario's table gives what one operation costs: Redis commands, the
benchmark process's CPU (\`Node µs/op\`, what the client library costs an app server) and
redis-server's CPU (\`Redis µs/op\`, what it costs the Redis a whole fleet of app servers shares), and
a fleet capacity line per row of ours: the ops/s one Redis core can serve, against the peer that costs
Redis the least (\`pnpm bench\`, see [Running the benchmarks](../bench/README.md)). Figures from a 2-core
machine: compare rows within one scenario, not across runs.

Each chart has a legend: ${colour('ours')} bars are redis-patterns, ${colour('peer')} bars are the peer libraries, and
${colour('ceiling')} bars are ceilings. A ceiling row (its label says "ceiling") does the least work the job
allows, bare Redis commands with no library around them or no Redis at all, so it shows how fast any
library could go on this machine; it is a bound, not a competitor.

${sections.join('\n')}`,
);
console.log(`Wrote docs/benchmarks.md and ${data.scenarios.length} scenarios' charts to docs/benchmarks/.`);
