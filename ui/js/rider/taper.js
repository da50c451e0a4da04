// @ts-check
// Time to a target SOC for a flashCharge pack (23S LFP), from the way the current falls near full rather than a
// straight line. The pack charges at constant current until its terminal voltage reaches the charge voltage
// (82.1 V), then at constant voltage: the current is (82.1 V − OCV(soc)) / R and shrinks as the open-circuit
// voltage climbs the steep top of the LFP curve. The EV ends the charge at its target or when the taper falls below
// C/20. Pure: no DOM, no clock. The gateway's simulator uses the same model (src/sim/battery.ts); a unit test
// holds the two together (test/ui/taper.test.ts).

export const CHARGE_VOLTAGE_V = 82.1;
export const CELLS_IN_SERIES = 23;
/** Pack capacity by the model the firmware reports. */
export const CAPACITY_AH = new Map([['Classic', 30], ['Pro', 60], ['Max', 90]]);
/** Typical pack resistance by model (Ω), used when voltage and current do not give one. */
export const TYPICAL_RESISTANCE_OHM = new Map([['Classic', 0.1], ['Pro', 0.05], ['Max', 0.033]]);
/** The firmware's range estimate, km per Ah: the capacity of an unnamed model follows from its max range. */
export const KM_PER_AH = 2.7;

// LFP open-circuit voltage per cell against SOC %: flat in the middle, steep at both ends.
/** @type {ReadonlyArray<readonly [number, number]>} */
const OCV_CURVE = [
  [0, 2.8], [5, 3.0], [10, 3.1], [20, 3.18], [40, 3.22], [60, 3.26], [80, 3.3], [90, 3.34], [95, 3.4], [98, 3.48], [100, 3.6],
];
const MIN_R = 0.005;
const MAX_R = 0.5;
/** Integration step in SOC %. */
const STEP = 0.05;

/** Pack open-circuit voltage at `soc` %. @param {number} soc */
export function packOcv(soc) {
  const s = Math.min(100, Math.max(0, soc));
  let prev = OCV_CURVE[0];
  for (const point of OCV_CURVE) {
    if (s <= point[0]) {
      const [s0, v0] = /** @type {readonly [number, number]} */ (prev);
      const [s1, v1] = point;
      return CELLS_IN_SERIES * (s1 === s0 ? v1 : v0 + ((v1 - v0) * (s - s0)) / (s1 - s0));
    }
    prev = point;
  }
  return CELLS_IN_SERIES * 3.6;
}

/**
 * @typedef {object} TaperInput
 * @property {number} soc            state of charge now, %
 * @property {number} targetSoc      where the rider wants to stop, %
 * @property {number} capacityAh     pack capacity
 * @property {number} currentA       recent charge current (a short average of the last samples)
 * @property {number} [voltageV]     terminal voltage with that current: gives the pack's resistance
 * @property {number} [resistanceOhm] used when voltage is missing or implausible
 */

/**
 * @typedef {{ ok: true, seconds: number, endSoc: number, endsBy: 'target' | 'complete', phase: 'cc' | 'cv', resistanceOhm: number }
 *   | { ok: false, reason: 'reached' | 'not-charging' | 'unknown-capacity' | 'bad-input' }} TaperEstimate
 * endsBy 'complete': the taper falls below C/20 before the target, so the charge ends at endSoc (below the target).
 */

/**
 * The pack's resistance from one sample: terminal V = OCV + I·R. Implausible values (a meter that reads the
 * charger side, an OCV table that does not fit this pack) fall back to the given or typical figure.
 * @param {TaperInput} input
 */
export function resistanceFrom(input) {
  const fallback = input.resistanceOhm ?? 0.05;
  if (input.voltageV === undefined || !(input.currentA > 0)) return fallback;
  const r = (input.voltageV - packOcv(input.soc)) / input.currentA;
  return Number.isFinite(r) && r >= MIN_R && r <= MAX_R ? r : fallback;
}

/**
 * Integrates dt = dAh / I(soc) from `soc` to the target, with I(soc) = min(I now, (82.1 V − OCV(soc)) / R):
 * the recent current holds until the CV limit is lower, then the taper takes over.
 * @param {TaperInput} input
 * @returns {TaperEstimate}
 */
export function estimateTimeToTarget(input) {
  const { soc, targetSoc, capacityAh, currentA } = input;
  if (![soc, targetSoc, currentA].every(Number.isFinite)) return { ok: false, reason: 'bad-input' };
  if (!(capacityAh > 0)) return { ok: false, reason: 'unknown-capacity' };
  if (soc >= targetSoc) return { ok: false, reason: 'reached' };
  if (!(currentA > 0)) return { ok: false, reason: 'not-charging' };
  const r = resistanceFrom(input);
  const stopBelowA = capacityAh / 20;
  const cvLimit = (/** @type {number} */ s) => Math.max(0, (CHARGE_VOLTAGE_V - packOcv(s)) / r);
  const currentAt = (/** @type {number} */ s) => Math.min(currentA, cvLimit(s));
  // The current now is already the CV limit (within 2 %): the pack is tapering.
  const phase = cvLimit(soc) <= currentA * 1.02 ? 'cv' : 'cc';
  let seconds = 0;
  let s = soc;
  const end = Math.min(100, targetSoc);
  while (s < end) {
    const step = Math.min(STEP, end - s);
    const amps = currentAt(s + step / 2);
    if (amps < stopBelowA) return { ok: true, seconds, endSoc: s, endsBy: 'complete', phase, resistanceOhm: r };
    seconds += ((capacityAh * step) / 100 / amps) * 3600;
    s += step;
  }
  return { ok: true, seconds, endSoc: end, endsBy: 'target', phase, resistanceOhm: r };
}

/**
 * The pack capacity for a model name, else from the max range (km ÷ 2.7 km/Ah).
 * @param {string | null | undefined} model @param {number | null | undefined} maxRangeKm
 * @returns {number | undefined}
 */
export function capacityOf(model, maxRangeKm) {
  const byModel = model ? CAPACITY_AH.get(model) : undefined;
  if (byModel !== undefined) return byModel;
  return typeof maxRangeKm === 'number' && maxRangeKm > 0 ? maxRangeKm / KM_PER_AH : undefined;
}
