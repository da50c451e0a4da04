// Number, time and age formatting for the bench screens. null / undefined always shows as an em dash.
export const NONE = '—';

export function num(value, digits = 1) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : NONE;
}

export function withUnit(value, unit, digits = 1) {
  const n = num(value, digits);
  return n === NONE ? NONE : `${n} ${unit}`;
}

/** Watts as W below 1 kW, else kW. */
export function power(watts) {
  if (typeof watts !== 'number' || !Number.isFinite(watts)) return NONE;
  return Math.abs(watts) >= 1000 ? `${(watts / 1000).toFixed(2)} kW` : `${watts.toFixed(0)} W`;
}

export function energyWh(wh) {
  return typeof wh === 'number' && Number.isFinite(wh) ? `${Math.round(wh).toLocaleString('en-US')} Wh` : NONE;
}

/** "4 s", "3 min 10 s", "2 h 5 min". */
export function duration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return NONE;
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${m % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function ageSince(iso, now = Date.now()) {
  const t = Date.parse(iso ?? '');
  return Number.isFinite(t) ? now - t : undefined;
}

/** Local wall-clock time, with milliseconds for frames. */
export function clock(iso, withMs = false) {
  const d = new Date(iso ?? '');
  if (Number.isNaN(d.getTime())) return NONE;
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  const base = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${base}.${pad(d.getMilliseconds(), 3)}` : base;
}
