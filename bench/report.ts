import type { RowResult } from './scenario.ts';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** Ours divided by a peer at the same in-flight level: above 1x means ours is faster. */
function ratio(ours: RowResult, peer: RowResult | undefined): string {
  return peer ? `${(ours.opsPerSec / peer.opsPerSec).toFixed(2)}x` : '';
}

/** Pads every column to its widest cell, so the markdown also reads well in a terminal. */
function markdown(header: string[], body: string[][], numericFrom: number): string {
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
