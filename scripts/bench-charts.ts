/**
 * Turns a bench results file into the reference site's benchmarks page: one SVG bar chart per
 * scenario and in-flight level (our rows coloured, peers grey) and a markdown page around them.
 *   tsx scripts/bench-charts.ts [results.json]     (default docs/benchmarks/results.json)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

interface Result {
  row: string;
  peer: boolean;
  group?: string;
  inflight: number;
  opsPerSec: number;
  p99Ms: number;
  commandsPerOp: number;
}
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

/** A horizontal bar chart of ops/s, longest bar = the fastest row. */
function chart(title: string, rows: Result[]): string {
  const barHeight = 22;
  const labelWidth = 330;
  const width = 900;
  const top = 34;
  const max = Math.max(...rows.map((r) => r.opsPerSec), 1);
  const bars = rows.map((r, i) => {
    const y = top + i * (barHeight + 6);
    const w = Math.max(1, Math.round(((width - labelWidth - 110) * r.opsPerSec) / max));
    const colour = r.peer ? '#9aa5b1' : '#c0392b';
    return [
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeXml(r.row)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${w}" height="${barHeight}" fill="${colour}" rx="3"/>`,
      `<text x="${labelWidth + w + 6}" y="${y + 15}">${fmt.format(r.opsPerSec)}/s</text>`,
    ].join('');
  });
  const height = top + rows.length * (barHeight + 6) + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13" fill="#1f2933"><title>${escapeXml(title)}</title><text x="10" y="20" font-weight="600" font-size="15">${escapeXml(title)}</text>${bars.join('')}</svg>\n`;
}

const sections: string[] = [];
for (const scenario of data.scenarios) {
  const levels = [...new Set(scenario.results.map((r) => r.inflight))].sort((a, b) => a - b);
  const images = levels.map((level) => {
    const file = `${scenario.name}-${level}.svg`;
    const rows = scenario.results.filter((r) => r.inflight === level);
    writeFileSync(join(out, file), chart(`${scenario.name}: ops/s at ${level} in flight`, rows));
    return `![${scenario.name} at ${level} in flight](benchmarks/${file})`;
  });
  sections.push(`## ${scenario.name}\n\n${scenario.description}\n\n${images.join('\n\n')}\n`);
}

const { meta } = data;
const rounds =
  (meta.rounds ?? 1) > 1 ? `, the median of ${meta.rounds} rounds measured with the rows interleaved` : '';
writeFileSync(
  join(root, 'docs', 'benchmarks.md'),
  `---
title: Benchmarks
---

# Benchmarks

Our packages (red) against the libraries people use for the same job (grey), measured in one run
on one machine${meta.isolation ? ` (${meta.isolation})` : ' against one Redis'}: ${escapeXml(meta.cpu)}, node ${meta.node}, redis-server ${meta.redis},
${meta.pinning.replace(/ \(pid \d+\)/g, '')}, ${meta.durationMs} ms per measurement${rounds}, ${meta.date.slice(0, 10)}. Throughput only;
the bench prints p50/p99 latency and Redis commands per operation too (\`pnpm bench\`, see
bench/README.md). Figures from a 2-core machine: compare the bars within one chart, not across runs.

${sections.join('\n')}`,
);
console.log(`Wrote docs/benchmarks.md and ${data.scenarios.length} scenarios' charts to docs/benchmarks/.`);
