/**
 * A horizontal bar chart as a standalone SVG, sized from its own text so no label is cut: the
 * benchmarks page shows these as <img>, where nothing can reflow or scroll. Text widths are
 * estimated with an upper bound (see `textWidth`), labels too long for the label column wrap onto a
 * second line, and the label column, the SVG width and every row's height follow from that.
 */

/** What a bar stands for; each kind has its colour and a legend entry. */
export type BarKind = 'ours' | 'peer' | 'ceiling';
export interface Bar {
  label: string;
  value: number;
  /** Printed after the bar, e.g. "13,177/s". */
  valueText: string;
  kind: BarKind;
}

/** Each kind's fill, that colour's name for the prose around the charts, and its legend text. */
export const barStyles: Record<BarKind, { colour: string; colourName: string; legend: string }> = {
  ours: { colour: '#c0392b', colourName: 'red', legend: 'redis-patterns' },
  peer: { colour: '#9aa5b1', colourName: 'grey', legend: 'peer library' },
  ceiling: { colour: '#2e6f9e', colourName: 'blue', legend: 'ceiling (no library: the upper bound)' },
};

const fontSize = 13;
const titleSize = 15;
const lineHeight = 16;
const barHeight = 22;
const rowGap = 6;
const pad = 10;
/** Labels wider than this wrap onto a second line. */
const maxLabelWidth = 300;
/** Length of the longest bar. */
const barArea = 300;

// Advance widths in em per group of characters: at least the widest glyph of the group in DejaVu Sans
// (Debian's sans-serif, what Chromium draws system-ui with there, and one of the widest) and in
// Liberation Sans (Arial's metrics); bold from their bold faces. Summed over a string, they bound
// its rendered width.
const groups = {
  narrow: new Set(" !'(),-./:;IJ[\\]fijlrt|"),
  wide: new Set('#%+<=>@MW^m~'),
  upper: new Set('&ABCDGHNOQRUVXZw'),
};
const em = {
  regular: { narrow: 0.5, other: 0.67, upper: 0.82, wide: 1.1 },
  bold: { narrow: 0.56, other: 0.78, upper: 0.93, wide: 1.12 },
};

/** An upper bound of the width of `text` in pixels at `size` px (non-ASCII counts as wide). */
export function textWidth(text: string, size: number, bold = false): number {
  const widths = bold ? em.bold : em.regular;
  let total = 0;
  for (const ch of text) {
    if (ch.charCodeAt(0) > 126 || groups.wide.has(ch)) total += widths.wide;
    else if (groups.narrow.has(ch)) total += widths.narrow;
    else if (groups.upper.has(ch)) total += widths.upper;
    else total += widths.other;
  }
  return Math.ceil(total * size);
}

/**
 * The label on one line if it fits `maxLabelWidth`, else on two, split at a space: a break before
 * "(" or after ":" whose lines both fit, else any break whose lines fit, the longer line as short as
 * possible (if no break fits, the label column grows to the longer line).
 */
export function wrapLabel(label: string): string[] {
  if (textWidth(label, fontSize) <= maxLabelWidth) return [label];
  let best: string[] = [label];
  let bestCost = Number.POSITIVE_INFINITY;
  for (let i = label.indexOf(' '); i > 0; i = label.indexOf(' ', i + 1)) {
    const lines = [label.slice(0, i), label.slice(i + 1)];
    const widest = Math.max(...lines.map((line) => textWidth(line, fontSize)));
    const natural = label[i + 1] === '(' || label[i - 1] === ':';
    const cost = (widest <= maxLabelWidth ? 0 : 2e6) + (natural ? 0 : 1e6) + widest;
    if (cost < bestCost) [best, bestCost] = [lines, cost];
  }
  return best;
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The legend: one swatch and name per kind present, in a row under the title. */
function legend(kinds: BarKind[], y: number): { svg: string; width: number } {
  let x = pad;
  const parts = kinds.map((kind) => {
    const { colour, legend: text } = barStyles[kind];
    const part = `<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${colour}" rx="2"/><text x="${x + 17}" y="${y}">${escapeXml(text)}</text>`;
    x += 17 + textWidth(text, fontSize) + 16;
    return part;
  });
  return { svg: parts.join(''), width: x - 16 + pad };
}

/** The chart: the title, the legend, then one bar per row, longest bar = the largest value. */
export function barChart(title: string, bars: Bar[]): string {
  const kinds = (['ours', 'peer', 'ceiling'] as const).filter((k) => bars.some((b) => b.kind === k));
  const key = legend(kinds, 44);
  const rows = bars.map((bar) => ({ bar, lines: wrapLabel(bar.label) }));
  const labelColumn = Math.max(0, ...rows.flatMap((r) => r.lines.map((l) => textWidth(l, fontSize))));
  const barX = pad + labelColumn + 8;
  const max = Math.max(...bars.map((b) => b.value), 1);
  let y = 60;
  let right = 0;
  const body = rows.map(({ bar, lines }) => {
    const rowHeight = Math.max(barHeight, lines.length * lineHeight);
    const barY = y + (rowHeight - barHeight) / 2;
    const w = Math.max(1, Math.round((barArea * bar.value) / max));
    right = Math.max(right, barX + w + 6 + textWidth(bar.valueText, fontSize));
    // Baselines: one line sits where the bar's text sits; two lines straddle the bar's middle.
    const firstBaseline = lines.length === 1 ? barY + 15 : y + 12;
    const tspans = lines.map(
      (line, i) => `<tspan x="${barX - 8}" y="${firstBaseline + i * lineHeight}">${escapeXml(line)}</tspan>`,
    );
    y += rowHeight + rowGap;
    return [
      `<text text-anchor="end">${tspans.join('')}</text>`,
      `<rect x="${barX}" y="${barY}" width="${w}" height="${barHeight}" fill="${barStyles[bar.kind].colour}" rx="3"/>`,
      `<text x="${barX + w + 6}" y="${barY + 15}">${escapeXml(bar.valueText)}</text>`,
    ].join('');
  });
  const width = Math.ceil(Math.max(right + pad, key.width, pad * 2 + textWidth(title, titleSize, true)));
  const height = y + 4 - rowGap;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="${fontSize}" fill="#1f2933"><title>${escapeXml(title)}</title><text x="${pad}" y="20" font-weight="600" font-size="${titleSize}">${escapeXml(title)}</text>${key.svg}${body.join('')}</svg>\n`;
}
