// flashCharge vehicles: model from the name or the maximum current, battery capacity, range.
import type { Mutable, VehicleData } from './catalogue.js';

/** Firmware value (rangeKm = batteryAh × 2.7); the old backend used 2.8. */
export const DEFAULT_KM_PER_AH = 2.7;

export type ModelName = 'Classic' | 'Pro' | 'Max';
const CAPACITY_AH: Readonly<Record<ModelName, number>> = { Classic: 30, Pro: 60, Max: 90 };

/** Backend/firmware thresholds: ≤ 30 A Classic, ≤ 60 A Pro, else Max. */
export function modelFromMaxCurrent(maxCurrent: number): ModelName {
  return maxCurrent <= 30 ? 'Classic' : maxCurrent <= 60 ? 'Pro' : 'Max';
}

/** Recognises "Classic", "PRO", "NX-100 MAX"…; undefined for names we cannot size. */
export function knownModel(name: string): ModelName | undefined {
  const n = name.toLowerCase();
  if (/\bclassic\b/.test(n)) return 'Classic';
  if (/\bpro\b/.test(n)) return 'Pro';
  if (/\bmax\b/.test(n)) return 'Max';
  return undefined;
}

export function capacityAh(model: ModelName): number {
  return CAPACITY_AH[model];
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/**
 * Fills model, battery capacity, range and max range from what is known.
 * Model: the sender's (unless missing or "Unknown"), else from maxCurrent. Range: the sender's, else
 * soc × Ah × km-per-Ah. Max range: Ah × km-per-Ah.
 */
export function deriveVehicle(v: VehicleData, kmPerAh: number): VehicleData {
  const given = v.model !== undefined && v.model.trim() !== '' && v.model.trim().toLowerCase() !== 'unknown' ? v.model.trim() : undefined;
  const sized = given !== undefined ? knownModel(given) : undefined;
  const byCurrent = v.maxCurrent !== undefined ? modelFromMaxCurrent(v.maxCurrent) : undefined;
  const model = given ?? byCurrent;
  const ah = v.batteryAh ?? (sized ? capacityAh(sized) : byCurrent ? capacityAh(byCurrent) : undefined);
  const out: Mutable<VehicleData> = { ...v };
  if (model !== undefined) out.model = model;
  if (ah !== undefined) {
    out.batteryAh = ah;
    out.maxRange = round2(ah * kmPerAh);
    if (v.range === undefined && v.soc !== undefined) out.range = round2((Math.min(Math.max(v.soc, 0), 100) / 100) * ah * kmPerAh);
  }
  return out;
}

