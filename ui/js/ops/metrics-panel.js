// Health and metrics for operators, live from the `metrics` push (every PUSH_METRICS_INTERVAL_MS): relay
// round-trip percentiles, frames/s, links by kind, upstream states, binlog state and lag, mirror upstreams,
// dropped events. Each tile shows the figure now and an SVG sparkline of the last SAMPLES pushes (a few lines of
// SVG: no library).
import { byId, h, setText } from '../dom.js';

const SAMPLES = 90;
const W = 240;
const HEIGHT = 48;
const SVG_NS = 'http://www.w3.org/2000/svg';

const num = (v, digits = 0) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–');
const sum = (o) => Object.values(o ?? {}).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
const parts = (o) => Object.entries(o ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';

/** Tiles: id, title, series (name → value from a sample), and the text of the figure now. */
const TILES = [
  { id: 'rtt', title: 'Relay round trip (ms)', series: { p50: (m) => m.gateway.relayRttMs.p50, p95: (m) => m.gateway.relayRttMs.p95, p99: (m) => m.gateway.relayRttMs.p99 },
    now: (m) => `p50 ${num(m.gateway.relayRttMs.p50, 1)} · p95 ${num(m.gateway.relayRttMs.p95, 1)} · p99 ${num(m.gateway.relayRttMs.p99, 1)}` },
  { id: 'fps', title: 'Frames per second', series: { in: (m) => m.gateway.framesPerSecond.in, out: (m) => m.gateway.framesPerSecond.out },
    now: (m) => `in ${num(m.gateway.framesPerSecond.in, 1)} · out ${num(m.gateway.framesPerSecond.out, 1)}` },
  { id: 'links', title: 'Station links', series: { links: (m) => sum(m.gateway.links) }, now: (m) => `${sum(m.gateway.links)} (${parts(m.gateway.links)})` },
  { id: 'upstreams', title: 'Upstream states', series: { open: (m) => m.gateway.upstreams.open ?? m.gateway.upstreams.connected ?? 0 }, now: (m) => parts(m.gateway.upstreams) },
  { id: 'binlog', title: 'Binlog reader', series: { lag: (m) => m.gateway.binlog?.lagMs ?? null }, now: (m) => (m.gateway.binlog ? `${m.gateway.binlog.state}${m.gateway.binlog.lagMs != null ? `, lag ${num(m.gateway.binlog.lagMs)} ms` : ''}` : 'off') },
  // One line per mirror upstream (src/mirror): open links of all, largest lag, frames dropped.
  { id: 'mirrors', title: 'Mirror upstreams', series: { lag: (m) => Math.max(0, ...(m.gateway.mirrors ?? []).map((x) => x.lagMs)) },
    now: (m) => (m.gateway.mirrors ?? []).map((x) => `${x.id} open ${x.links.open ?? 0}/${sum(x.links)} · lag ${num(x.lagMs)} ms · dropped ${x.dropped}`).join('; ') || 'none' },
  { id: 'dropped', title: 'Dropped (since start)', series: { events: (m) => m.push.dropped?.eventsDropped ?? 0, frames: (m) => m.push.dropped?.framesDropped ?? 0 },
    now: (m) => `events ${m.push.dropped?.eventsDropped ?? 0} · frames ${m.push.dropped?.framesDropped ?? 0} · clients ${m.push.clients?.total ?? 0}` },
];

function svg(tag, attrs) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

export function createMetricsPanel({ setMetrics }) {
  const el = { panel: byId('ops-metrics'), tiles: byId('om-tiles'), at: byId('om-at') };
  const history = [];
  const parts = new Map();

  el.tiles.replaceChildren(...TILES.map((t) => {
    const lines = new Map(Object.keys(t.series).map((name, i) => [name, svg('polyline', { class: `spark spark-${i}`, fill: 'none', points: '' })]));
    const chart = svg('svg', { viewBox: `0 0 ${W} ${HEIGHT}`, preserveAspectRatio: 'none', class: 'sparkline', 'aria-hidden': 'true', focusable: 'false' });
    for (const line of lines.values()) chart.append(line);
    const value = h('p', { class: 'om-now' }, '–');
    const range = h('p', { class: 'hint om-range' });
    parts.set(t.id, { lines, value, range });
    return h('li', { class: 'om-tile', 'data-metric': t.id }, h('h3', {}, t.title), value, chart, range);
  }));

  function draw() {
    const last = history.at(-1);
    if (!last) return;
    setText(el.at, `Last sample ${new Date(last.at).toLocaleTimeString()} · ${history.length} samples`);
    for (const t of TILES) {
      const p = parts.get(t.id);
      setText(p.value, t.now(last));
      const values = Object.values(t.series).flatMap((f) => history.map((m) => f(m))).filter((v) => typeof v === 'number' && Number.isFinite(v));
      const max = Math.max(1, ...values);
      for (const [name, f] of Object.entries(t.series)) {
        const pts = history.map((m, i) => {
          const v = f(m);
          if (typeof v !== 'number' || !Number.isFinite(v)) return null;
          // Newest at the right edge; older samples to the left.
          const x = W - ((history.length - 1 - i) / (SAMPLES - 1)) * W;
          return `${x.toFixed(1)},${(HEIGHT - 2 - (v / max) * (HEIGHT - 4)).toFixed(1)}`;
        });
        p.lines.get(name).setAttribute('points', pts.filter(Boolean).join(' '));
      }
      setText(p.range, `scale 0–${num(max, max < 10 ? 1 : 0)} · ${Object.keys(t.series).join(', ')}`);
    }
  }

  return {
    setVisible(visible) {
      el.panel.hidden = !visible;
      setMetrics(visible);
    },
    onMetrics(sample) {
      history.push(sample);
      if (history.length > SAMPLES) history.shift();
      if (!el.panel.hidden) draw();
    },
  };
}
