// Reading kept meter samples as numbers in the units the summary uses.
import type { SampledValue } from './catalogue.js';
import type { MeterSample } from './state-types.js';

export function numeric(s: MeterSample | undefined): number | undefined {
  if (!s) return undefined;
  const n = Number(s.value);
  return s.value.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

/** Energy register in Wh whatever the unit. */
export function wh(s: MeterSample | undefined): number | undefined {
  const n = numeric(s);
  return n === undefined ? undefined : s?.unit === 'kWh' ? n * 1000 : n;
}

export function watts(s: MeterSample | undefined): number | undefined {
  const n = numeric(s);
  return n === undefined ? undefined : s?.unit === 'kW' ? n * 1000 : n;
}

/** Samples are kept per measurand, phase and location. */
export function sampleKey(sv: Pick<SampledValue, 'measurand' | 'phase' | 'location'>): string {
  return `${sv.measurand}|${sv.phase ?? ''}|${sv.location ?? ''}`;
}

export const KEY = {
  energy: 'Energy.Active.Import.Register||',
  power: 'Power.Active.Import||',
  voltage: 'Voltage||',
  current: 'Current.Import||',
  temperature: 'Temperature||',
} as const;
