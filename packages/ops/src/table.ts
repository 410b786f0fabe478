/*
 * Tables for people: left-aligned text columns, right-aligned numbers, a header underlined with
 * dashes. Small on purpose: the CLI prints a few columns of short cells, never wrapped text.
 */

/** A cell as the commands give it; `undefined` and `null` print as `-`. */
export type Cell = string | number | boolean | null | undefined;

/** A column: its header and how to read its cell from a row. */
export interface Column<T> {
  /** The header text. */
  header: string;
  /** The cell of `row` in this column. */
  cell: (row: T) => Cell;
}

const text = (cell: Cell): string => (cell === undefined || cell === null ? '-' : String(cell));

/** Formats `rows` under `columns`; an empty list prints `empty` instead of a header alone. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[], empty = '(none)'): string {
  if (rows.length === 0) return `${empty}\n`;
  const cells = rows.map((row) => columns.map((column) => column.cell(row)));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((row) => text(row[i]).length)),
  );
  const numeric = columns.map((_, i) => cells.every((row) => typeof row[i] === 'number' || row[i] == null));
  const line = (values: readonly string[], align: readonly boolean[]) =>
    values
      .map((value, i) => (align[i] ? value.padStart(widths[i] ?? 0) : value.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const headers = columns.map((column) => column.header);
  return [
    line(headers, numeric),
    line(
      widths.map((w) => '-'.repeat(w)),
      numeric,
    ),
    ...cells.map((row) => line(row.map(text), numeric)),
  ]
    .map((row) => `${row}\n`)
    .join('');
}

/** Formats an object as `key: value` lines, nested objects as JSON; for one record (a job, a lock). */
export function formatRecord(record: object): string {
  const entries = Object.entries(record).filter(([, value]) => value !== undefined);
  const width = Math.max(0, ...entries.map(([key]) => key.length));
  return entries
    .map(([key, value]) => {
      const shown = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
      return `${`${key}:`.padEnd(width + 1)} ${shown}\n`;
    })
    .join('');
}

/** Milliseconds for people: `850ms`, `12.5s`, `3m20s`, `2h05m`, `3d04h`. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 0) return 'none';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toFixed(1))}s`;
  const pad = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d${pad((s % 86_400) / 3600)}h`;
}
