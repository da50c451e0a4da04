// @ts-check
// Session curves drawn by uPlot (a small canvas chart library made for streaming time series): SOC and power
// against minutes since the session started. Colours come from the page's CSS variables, so the charts follow the
// light and dark themes. Each chart element carries a text alternative (role="img" + aria-label) and the number of
// points drawn (data-points), since a canvas says nothing to a screen reader or a test.
import uPlot from '../../vendor/uPlot.esm.js';
import { columns } from './series.js';

/** Grid steps of the time axis, in minutes: half a minute up to four hours. */
const MINUTE_STEPS = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 240];

/** @param {string} name */
function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/**
 * @typedef {{ key: 1 | 2, label: string, unit: string, colorVar: string, digits: number, range?: [number, number], zoomToData?: boolean }} ChartSpec
 * range: the axis bounds; zoomToData: the lower bound moves up to 10 below the lowest sample (a charge from 90 %
 * to 98 % would be a flat line on 0–100).
 */

/** @type {ChartSpec} */
export const SOC_CHART = { key: 1, label: 'State of charge', unit: '%', colorVar: '--good', digits: 0, range: [0, 100], zoomToData: true };
/** @type {ChartSpec} */
export const POWER_CHART = { key: 2, label: 'Power', unit: 'kW', colorVar: '--accent', digits: 2 };

/**
 * One line chart in `root` (an element with role="img"). update() takes the session's points and start time.
 * @param {HTMLElement} root @param {ChartSpec} spec @param {{ height?: number }} [opts]
 */
export function createLineChart(root, spec, opts = {}) {
  const height = opts.height ?? 160;
  /** @type {uPlot | undefined} */
  let plot;
  /** @type {[number[], (number | null)[]]} */
  let data = [[], []];

  function build() {
    plot?.destroy();
    const text = cssVar('--muted');
    const grid = cssVar('--line');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '12px system-ui, sans-serif' };
    const yRange = spec.range;
    plot = new uPlot(
      {
        width: Math.max(120, root.clientWidth),
        height,
        legend: { show: false },
        cursor: { show: false },
        scales: {
          // Minutes since the start; the axis starts at 0 and spans at least a minute (one sample has no width).
          x: { time: false, range: (/** @type {unknown} */ _u, /** @type {unknown} */ _min, /** @type {number | null} */ max) => [0, Math.max(1, max ?? 0)] },
          y: yRange
            ? { range: (/** @type {unknown} */ _u, /** @type {number | null} */ min) => [spec.zoomToData && Number.isFinite(min) ? Math.max(yRange[0], Math.floor(((min ?? 0) - 10) / 10) * 10) : yRange[0], yRange[1]] }
            : { range: (/** @type {unknown} */ _u, /** @type {unknown} */ _min, /** @type {number | null} */ max) => [0, Math.max(0.1, (max ?? 0) * 1.15)] },
        },
        axes: [
          {
            ...axis,
            incrs: MINUTE_STEPS,
            values: (/** @type {unknown} */ _u, /** @type {number[]} */ splits) => splits.map((v) => (Number.isInteger(v) ? `${v} min` : `${v.toFixed(1)} min`)),
          },
          { ...axis, size: 44, values: (/** @type {unknown} */ _u, /** @type {number[]} */ splits) => splits.map((v) => v.toFixed(spec.digits === 0 ? 0 : 1)) },
        ],
        series: [{}, { label: `${spec.label} (${spec.unit})`, stroke: cssVar(spec.colorVar), width: 2, spanGaps: true,
          // Dots while there are few samples (a lone first sample has no line to show), a plain line after.
          points: { show: (/** @type {unknown} */ _u, /** @type {number} */ _si, /** @type {number} */ i0, /** @type {number} */ i1) => i1 - i0 < 30, size: 6 } }],
      },
      data,
      root,
    );
  }

  function describe() {
    const ys = data[1].filter((v) => v !== null);
    const minutes = data[0].length > 0 ? /** @type {number} */ (data[0][data[0].length - 1]) : 0;
    root.dataset.points = String(ys.length);
    root.setAttribute(
      'aria-label',
      ys.length === 0
        ? `${spec.label}: no samples yet`
        : `${spec.label} over ${Math.round(minutes)} min: from ${ys[0]?.toFixed(spec.digits)} to ${ys[ys.length - 1]?.toFixed(spec.digits)} ${spec.unit}, ${ys.length} samples`,
    );
  }

  // Follow the tile's width (phone rotation, desktop resize) and the colour scheme.
  let lastWidth = 0;
  const resize = new ResizeObserver(() => {
    const w = root.clientWidth;
    if (plot && w > 0 && w !== lastWidth) {
      lastWidth = w;
      plot.setSize({ width: w, height });
    }
  });
  resize.observe(root);
  const scheme = matchMedia('(prefers-color-scheme: dark)');
  const rebuild = () => build();
  scheme.addEventListener('change', rebuild);

  build();
  describe();
  return {
    /** @param {import('./series.js').Point[]} points @param {number} startMs */
    update(points, startMs) {
      const cols = columns(points, startMs);
      data = [cols[0], cols[spec.key]];
      plot?.setData(data);
      describe();
    },
    destroy() {
      resize.disconnect();
      scheme.removeEventListener('change', rebuild);
      plot?.destroy();
      plot = undefined;
    },
  };
}
