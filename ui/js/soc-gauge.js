// The big SOC ring: an SVG arc whose length is the state of charge, coloured by band, exposed as a meter.
import { setText } from './dom.js';

const RADIUS = 52;
const CIRCUMFERENCE = 2 * Math.PI * RADIUS;
/**
 * Changes smaller than this many points are drawn at once: the arc's transition repaints the page every frame
 * for its 0.6 s, which at one meter value a second is most of the page's time (bench:ui). Jumps (another
 * station, a reconnect) still glide.
 */
const GLIDE_FROM = 5;

function band(soc) {
  if (soc < 20) return 'low';
  if (soc < 50) return 'mid';
  return 'high';
}

/** root: the element holding svg .gauge-arc and .gauge-number */
export function createSocGauge(root) {
  const arc = root.querySelector('.gauge-arc');
  const number = root.querySelector('.gauge-number');
  arc.setAttribute('stroke-dasharray', String(CIRCUMFERENCE));
  arc.setAttribute('stroke-dashoffset', String(CIRCUMFERENCE));
  let shown = 0;

  return {
    update(soc, charging) {
      const known = typeof soc === 'number' && Number.isFinite(soc);
      const value = known ? Math.min(100, Math.max(0, soc)) : 0;
      root.classList.toggle('step', Math.abs(value - shown) < GLIDE_FROM);
      shown = value;
      arc.setAttribute('stroke-dashoffset', String(CIRCUMFERENCE * (1 - value / 100)));
      root.dataset.band = known ? band(value) : 'unknown';
      root.classList.toggle('charging', Boolean(charging));
      setText(number, known ? value.toFixed(value % 1 === 0 ? 0 : 1) : '--');
      root.setAttribute('aria-valuenow', known ? String(value) : '0');
      root.setAttribute('aria-valuetext', known ? `${value.toFixed(1)} percent${charging ? ', charging' : ''}` : 'state of charge unknown');
    },
  };
}
