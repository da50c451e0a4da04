// The EV side of a simulated flashCharge station: a 23S LFP pack (Classic / Pro / Max) behind a BMS that
// caps the current, charged constant-current until the pack reaches the charge voltage, then tapering
// (constant voltage). Pure functions over a small mutable state; time comes in as seconds from the caller.

export type VehicleModel = 'Classic' | 'Pro' | 'Max';
export const VEHICLE_MODELS: readonly VehicleModel[] = ['Classic', 'Pro', 'Max'];

export interface ModelFacts {
  readonly capacityAh: number;
  /** BMS maximum charge current; the firmware reports it as Current.Offered. */
  readonly bmsMaxA: number;
  /** Pack internal resistance (Ω): larger packs have more cells in parallel. */
  readonly resistanceOhm: number;
}

export const MODELS: Readonly<Record<VehicleModel, ModelFacts>> = {
  Classic: { capacityAh: 30, bmsMaxA: 30, resistanceOhm: 0.1 },
  Pro: { capacityAh: 60, bmsMaxA: 60, resistanceOhm: 0.05 },
  Max: { capacityAh: 90, bmsMaxA: 100, resistanceOhm: 0.033 },
};

export const CELLS_IN_SERIES = 23;
export const NOMINAL_PACK_V = 73.6;
/** Constant-voltage setpoint: 3.57 V per cell. */
export const CHARGE_VOLTAGE_V = 82.1;
/** The firmware's range estimate: 2.7 km per Ah in the pack. */
export const KM_PER_AH = 2.7;

// LFP open-circuit voltage per cell against SOC %: steep at both ends, flat (≈3.2–3.3 V) in between.
const OCV_CURVE: readonly (readonly [number, number])[] = [
  [0, 2.8], [5, 3.0], [10, 3.1], [20, 3.18], [40, 3.22], [60, 3.26], [80, 3.3], [90, 3.34], [95, 3.4], [98, 3.48], [100, 3.6],
];

export function cellOcv(soc: number): number {
  const s = Math.min(100, Math.max(0, soc));
  for (let i = 1; i < OCV_CURVE.length; i++) {
    const [s1, v1] = OCV_CURVE[i]!;
    if (s <= s1) {
      const [s0, v0] = OCV_CURVE[i - 1]!;
      return v0 + ((v1 - v0) * (s - s0)) / (s1 - s0);
    }
  }
  return OCV_CURVE[OCV_CURVE.length - 1]![1];
}

export function packOcv(soc: number): number {
  return CELLS_IN_SERIES * cellOcv(soc);
}

/** Model the firmware derives from the BMS maximum current (> 60 A Max, > 30 A Pro, else Classic). */
export function modelFromBmsCurrent(bmsMaxA: number): VehicleModel {
  return bmsMaxA > 60 ? 'Max' : bmsMaxA > 30 ? 'Pro' : 'Classic';
}

export interface ChargerLimits {
  readonly maxCurrentA: number;
  readonly maxPowerW: number;
}

export interface BatteryState {
  readonly model: VehicleModel;
  soc: number;
  targetSoc: number;
  /** Terminal voltage and current at the last step. */
  voltageV: number;
  currentA: number;
  /** Charger module temperature (the firmware's Temperature measurand), °C. */
  temperatureC: number;
  /** Set once the EV stopped drawing current: target reached or charge complete. */
  full: boolean;
}

export const AMBIENT_C = 25;
const HEAT_C_PER_W = 0.0035; // steady-state rise of the charger module per watt delivered
const HEAT_TAU_S = 600;

export function newBattery(model: VehicleModel, soc: number, targetSoc: number): BatteryState {
  return { model, soc, targetSoc, voltageV: packOcv(soc), currentA: 0, temperatureC: AMBIENT_C, full: soc >= targetSoc };
}

/** The current the pack accepts now: BMS cap, charger cap (power/voltage), and the CV taper. */
export function acceptedCurrent(b: BatteryState, limits: ChargerLimits): number {
  const f = MODELS[b.model];
  const ocv = packOcv(b.soc);
  const cv = Math.max(0, (CHARGE_VOLTAGE_V - ocv) / f.resistanceOhm);
  const byPower = limits.maxPowerW / Math.max(ocv, 1);
  return Math.max(0, Math.min(f.bmsMaxA, limits.maxCurrentA, byPower, cv));
}

/**
 * Advances the pack by dtS seconds. `charging` is whether the station lets energy flow.
 * Returns the energy delivered in Wh (terminal V × I integrated over the step).
 */
export function stepBattery(b: BatteryState, dtS: number, limits: ChargerLimits, charging: boolean): number {
  const f = MODELS[b.model];
  let current = 0;
  if (charging && !b.full) {
    current = acceptedCurrent(b, limits);
    // The EV ends the session at its target, or when the taper falls below C/20 (charge complete).
    if (b.soc >= b.targetSoc || current < f.capacityAh / 20) {
      b.full = true;
      current = 0;
    }
  }
  const ocv = packOcv(b.soc);
  const voltage = ocv + current * f.resistanceOhm;
  const energyWh = (voltage * current * dtS) / 3600;
  b.soc = Math.min(100, b.soc + ((current * dtS) / 3600 / f.capacityAh) * 100);
  b.voltageV = voltage;
  b.currentA = current;
  const steady = AMBIENT_C + HEAT_C_PER_W * voltage * current;
  b.temperatureC = steady + (b.temperatureC - steady) * Math.exp(-dtS / HEAT_TAU_S);
  return energyWh;
}

export function batteryAh(b: BatteryState): number {
  return (MODELS[b.model].capacityAh * b.soc) / 100;
}

export function rangeKm(b: BatteryState): number {
  return batteryAh(b) * KM_PER_AH;
}
