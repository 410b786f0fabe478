// Compares two bench results (`--json` files of run.ts) row by row: the CPU each of our rows costs
// per op, before and after, and each ratio against the peers.
//   npx tsx bench/compare.ts before.json after.json
import { readFileSync } from 'node:fs';
import type { RowResult, ScenarioResult } from './scenario.ts';

const [beforeFile, afterFile] = process.argv.slice(2);
if (beforeFile === undefined || afterFile === undefined) {
  console.error('usage: npx tsx bench/compare.ts before.json after.json');
  process.exit(2);
}
const load = (file: string) =>
  (JSON.parse(readFileSync(file, 'utf8')) as { scenarios: ScenarioResult[] }).scenarios;
const before = load(beforeFile);
const after = load(afterFile);

const fixed = (n: number | undefined, digits = 1) =>
  n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits);
const change = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !(a > 0)
    ? ''
    : `${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(0)}%`;
/** Ours over the fastest peer of the same group and in-flight level. */
const ratio = (rows: RowResult[], ours: RowResult) => {
  const peers = rows.filter((r) => r.peer && r.group === ours.group && r.inflight === ours.inflight);
  if (peers.length === 0) return undefined;
  return ours.opsPerSec / Math.max(...peers.map((p) => p.opsPerSec));
};

console.log(
  '| scenario | row | in flight | Node µs/op before → after | Redis µs/op before → after | cmds/op | vs best peer before → after |',
);
console.log('|---|---|--:|--:|--:|--:|--:|');
for (const scenario of after) {
  const old = before.find((s) => s.name === scenario.name);
  for (const row of scenario.results.filter((r) => !r.peer)) {
    const was = old?.results.find((r) => r.row === row.row && r.inflight === row.inflight);
    const cells = [
      scenario.name,
      row.row,
      String(row.inflight),
      `${fixed(was?.nodeCpuUsPerOp)} → ${fixed(row.nodeCpuUsPerOp)} (${change(was?.nodeCpuUsPerOp, row.nodeCpuUsPerOp)})`,
      `${fixed(was?.redisCpuUsPerOp)} → ${fixed(row.redisCpuUsPerOp)} (${change(was?.redisCpuUsPerOp, row.redisCpuUsPerOp)})`,
      `${fixed(was?.commandsPerOp, 2)} → ${fixed(row.commandsPerOp, 2)}`,
      `${fixed(was && old ? ratio(old.results, was) : undefined, 2)} → ${fixed(ratio(scenario.results, row), 2)}`,
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
}
