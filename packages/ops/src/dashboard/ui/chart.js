// A uPlot time-series chart as a Preact component: created once, fed new data on each render.

import { html, useEffect, useRef } from './vendor/preact.js';
import uPlot from './vendor/uplot.js';

/** `series`: [{ label, stroke }]; `data`: [times in epoch seconds, ...one array per series]. */
export function Chart({ title, series, data, testid }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const width = Math.max(280, box.current.clientWidth);
    plot.current = new uPlot(
      {
        title,
        width,
        height: 180,
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, spanGaps: true }))],
        axes: [{}, { size: 50 }],
      },
      data,
      box.current,
    );
    const resize = () =>
      plot.current?.setSize({ width: Math.max(280, box.current.clientWidth), height: 180 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  return html`<div class="chart" data-testid=${testid} data-points=${data[0].length} ref=${box}></div>`;
}
