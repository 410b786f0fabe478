import type { RowResult } from './scenario.ts';

/** Whole numbers with thousands separators. */
export const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** `digits` decimals, or n/a for a missing or non-finite value. */
export function fixed(value: number | undefined, digits: number): string {
  return value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** Ours divided by a peer at the same in-flight level: above 1x means ours is faster. */
function ratio(ours: RowResult, peer: RowResult | undefined): string {
  return peer ? `${(ours.opsPerSec / peer.opsPerSec).toFixed(2)}x` : '';
}

/**
 * A markdown table with every column padded to its widest cell, so it also reads well in a
 * terminal; columns from `numericFrom` on are right-aligned.
 */
export function markdown(header: string[], body: string[][], numericFrom: number): string {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, c) => (c >= numericFrom ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (c >= numericFrom ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

/** The table of one scenario: a row per (row, in flight), plus a "vs <peer>" column per peer row. */
export function formatTable(results: RowResult[]): string {
  const peers = [...new Set(results.filter((r) => r.peer).map((r) => r.row))];
  const header = [
    'row',
    'in flight',
    'ops/s',
    'p50 ms',
    'p99 ms',
    'cmds/op',
    'Node µs/op',
    'Redis µs/op',
    ...peers.map((p) => `vs ${p}`),
  ];
  const body = results.map((r) => [
    r.row,
    String(r.inflight),
    integer.format(r.opsPerSec),
    fixed(r.p50Ms, 3),
    fixed(r.p99Ms, 3),
    fixed(r.commandsPerOp, 2),
    fixed(r.nodeCpuUsPerOp ?? Number.NaN, 1),
    fixed(r.redisCpuUsPerOp ?? Number.NaN, 1),
    // Peers get empty ratio cells: the ratios answer "how do ours compare", not peer against peer.
    ...peers.map((p) =>
      r.peer
        ? ''
        : ratio(
            r,
            results.find((x) => x.peer && x.row === p && x.inflight === r.inflight && x.group === r.group),
          ),
    ),
  ]);
  return markdown(header, body, 1);
}

/** A ceiling row (its name says so) does the least work the job allows: a bound, not ours nor a peer. */
export const isCeiling = (r: RowResult): boolean => /ceiling/i.test(r.row);

/** Ops per second one Redis core can serve at `redisCpuUsPerOp`: 1e6 / µs per op. */
function perCore(redisCpuUsPerOp: number | undefined): string {
  if (redisCpuUsPerOp === undefined || !Number.isFinite(redisCpuUsPerOp)) return 'n/a';
  // A near cache or a local refusal can cost Redis nothing measurable per op.
  return redisCpuUsPerOp > 0 ? integer.format(1e6 / redisCpuUsPerOp) : 'unbounded';
}

/**
 * "Fleet capacity": for each of our rows (ceilings left out), the ops/s one Redis core can serve at its Redis CPU per op,
 * beside the best peer's (the peer of the same group and in-flight level with the least Redis CPU per op).
 * This is what limits how many app servers one Redis can carry, whichever client is faster per process.
 */
export function formatFleetCapacity(results: RowResult[]): string {
  const lines: string[] = [];
  for (const ours of results.filter((r) => !r.peer && !isCeiling(r))) {
    const peers = results.filter(
      (r) =>
        r.peer && r.group === ours.group && r.inflight === ours.inflight && r.redisCpuUsPerOp !== undefined,
    );
    const best = peers.sort((a, b) => (a.redisCpuUsPerOp ?? 0) - (b.redisCpuUsPerOp ?? 0))[0];
    const times =
      best?.redisCpuUsPerOp && ours.redisCpuUsPerOp
        ? `, ours/best ${(best.redisCpuUsPerOp / ours.redisCpuUsPerOp).toFixed(2)}x`
        : '';
    const peer = best ? `, best peer ${perCore(best.redisCpuUsPerOp)} (${best.row})${times}` : '';
    lines.push(
      `- ${ours.row} @${ours.inflight}: 1 Redis core serves ops/s: ours ${perCore(ours.redisCpuUsPerOp)}${peer}`,
    );
  }
  return lines.join('\n');
}
