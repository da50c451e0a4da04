// @ts-check
// One charging session's curve: SOC, power, current and voltage against station time, built from the gateway's
// meterValues events (history first, then live; the same sample from the station and from SteVe's binlog counts
// once). Pure: no DOM.

/** Samples kept per session (a 5 s interval fills this in about 14 h). */
const MAX_POINTS = 10_000;

/**
 * @typedef {{ t: number, soc?: number, powerW?: number, currentA?: number, voltageV?: number }} Point
 * @typedef {{ measurand: string, value: string, unit?: string, phase?: string, context?: string }} Sampled
 * @typedef {{ id: string, type: string, chargeBoxId: string, connectorId?: number, transactionId?: number,
 *   timestamp: string, data: { sampledValues?: readonly Sampled[] } }} MeterEvent
 */

/** @param {Sampled} sv */
function value(sv) {
  const n = Number(sv.value);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The figures of one meterValues event; undefined when it has none the curve shows. Phase-less samples only (a
 * three-phase meter's per-phase lines would double count).
 * @param {MeterEvent} e
 * @returns {Point | undefined}
 */
export function pointFromEvent(e) {
  const t = Date.parse(e.timestamp);
  if (!Number.isFinite(t) || !Array.isArray(e.data?.sampledValues)) return undefined;
  /** @type {Point} */
  const p = { t };
  for (const sv of e.data.sampledValues) {
    if (sv.phase !== undefined) continue;
    const v = value(sv);
    if (v === undefined) continue;
    if (sv.measurand === 'SoC') p.soc = v;
    else if (sv.measurand === 'Power.Active.Import') p.powerW = sv.unit === 'kW' ? v * 1000 : v;
    else if (sv.measurand === 'Current.Import') p.currentA = v;
    else if (sv.measurand === 'Voltage') p.voltageV = v;
  }
  if (p.powerW === undefined && p.currentA !== undefined && p.voltageV !== undefined) p.powerW = p.currentA * p.voltageV;
  return p.soc === undefined && p.powerW === undefined ? undefined : p;
}

/** Whether a meterValues event belongs to the transaction (by id; a sample without one by connector and time). */
export function belongsTo(/** @type {MeterEvent} */ e, /** @type {{ transactionId?: number, connectorId?: number, startTime: string, stopTime?: string }} */ tx) {
  if (e.transactionId !== undefined) return e.transactionId === tx.transactionId;
  if (e.connectorId !== tx.connectorId) return false;
  const t = Date.parse(e.timestamp);
  return t >= Date.parse(tx.startTime) && (tx.stopTime === undefined || t <= Date.parse(tx.stopTime));
}

export function createSeries() {
  /** @type {Map<number, Point>} station time → point (merged when two sources report the same sample) */
  const byTime = new Map();
  /** @type {Point[] | undefined} sorted cache */
  let sorted;
  return {
    /** @param {MeterEvent} e @returns {boolean} whether the curve changed */
    add(e) {
      const p = pointFromEvent(e);
      if (!p) return false;
      const prev = byTime.get(p.t);
      byTime.set(p.t, prev ? { ...prev, ...p } : p);
      if (byTime.size > MAX_POINTS) {
        const oldest = Math.min(...byTime.keys());
        byTime.delete(oldest);
      }
      sorted = undefined;
      return true;
    },
    /** @returns {Point[]} oldest first */
    points() {
      sorted ??= [...byTime.values()].sort((a, b) => a.t - b.t);
      return sorted;
    },
    get size() {
      return byTime.size;
    },
    /** The newest sample that has the figure. @param {'soc' | 'powerW' | 'currentA' | 'voltageV'} key */
    latest(key) {
      const pts = this.points();
      for (let i = pts.length - 1; i >= 0; i--) {
        const p = /** @type {Point} */ (pts[i]);
        if (p[key] !== undefined) return p;
      }
      return undefined;
    },
  };
}

/**
 * uPlot's aligned data: minutes since `startMs`, SOC %, power kW (null where a sample lacks the figure).
 * @param {Point[]} points @param {number} startMs
 * @returns {[number[], (number | null)[], (number | null)[]]}
 */
export function columns(points, startMs) {
  return [
    points.map((p) => (p.t - startMs) / 60_000),
    points.map((p) => p.soc ?? null),
    points.map((p) => (p.powerW === undefined ? null : p.powerW / 1000)),
  ];
}
