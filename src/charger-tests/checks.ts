// Named checks a case's expectation can apply to the frames it matched: behaviour a partial payload match cannot
// say (a register that only grows, P ≈ U × I, a vendor message's schema). Each returns what is wrong, or nothing.
import { Ajv } from 'ajv';
import type { StationCall } from './recorder.js';

export interface CheckContext {
  /** Every call the station made during the case so far. */
  readonly calls: readonly StationCall[];
}

export type Check = (matched: readonly StationCall[], ctx: CheckContext) => string | undefined;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Sample {
  readonly measurand: string;
  readonly value: number;
  readonly unit?: string;
  readonly phase?: string;
}

/** Sampled values of one MeterValues request, per meterValue entry. */
function samples(payload: unknown): Sample[][] {
  if (!isObject(payload) || !Array.isArray(payload.meterValue)) return [];
  return payload.meterValue.map((mv: unknown) => {
    if (!isObject(mv) || !Array.isArray(mv.sampledValue)) return [];
    return mv.sampledValue.flatMap((sv: unknown) => {
      if (!isObject(sv) || typeof sv.value !== 'string') return [];
      const measurand = typeof sv.measurand === 'string' ? sv.measurand : 'Energy.Active.Import.Register';
      return [{ measurand, value: Number(sv.value), ...(typeof sv.unit === 'string' ? { unit: sv.unit } : {}), ...(typeof sv.phase === 'string' ? { phase: sv.phase } : {}) }];
    });
  });
}

const scale = (s: Sample): number => (s.unit === 'kWh' || s.unit === 'kW' ? s.value * 1000 : s.value);
const find = (group: readonly Sample[], measurand: string): Sample | undefined => group.find((s) => s.measurand === measurand && s.phase === undefined) ?? group.find((s) => s.measurand === measurand);

const energyMonotonic: Check = (matched) => {
  let last: { wh: number; logId: number } | undefined;
  let seen = 0;
  for (const call of matched) {
    for (const group of samples(call.payload)) {
      const e = find(group, 'Energy.Active.Import.Register');
      if (!e) continue;
      seen++;
      const wh = scale(e);
      if (Number.isNaN(wh)) return `log #${call.logId}: Energy.Active.Import.Register "${e.value}" is not a number`;
      if (last && wh < last.wh) return `log #${call.logId}: energy register went back from ${last.wh} Wh (log #${last.logId}) to ${wh} Wh`;
      last = { wh, logId: call.logId };
    }
  }
  return seen === 0 ? 'no Energy.Active.Import.Register sample in the matched MeterValues' : undefined;
};

const powerMatchesVoltageCurrent: Check = (matched) => {
  let seen = 0;
  for (const call of matched) {
    for (const group of samples(call.payload)) {
      const p = find(group, 'Power.Active.Import');
      const u = find(group, 'Voltage');
      const i = find(group, 'Current.Import');
      if (!p || !u || !i) continue;
      seen++;
      const expected = u.value * i.value;
      const got = scale(p);
      // 5 % plus 50 W: meters sample U, I and P at slightly different instants.
      if (Math.abs(got - expected) > 0.05 * Math.abs(expected) + 50) return `log #${call.logId}: Power.Active.Import ${got} W, but Voltage × Current.Import = ${expected.toFixed(1)} W`;
    }
  }
  return seen === 0 ? 'no MeterValues carried Power.Active.Import, Voltage and Current.Import together' : undefined;
};

const socInRange: Check = (matched) => {
  for (const call of matched) {
    for (const group of samples(call.payload)) {
      const soc = find(group, 'SoC');
      if (soc && !(soc.value >= 0 && soc.value <= 100)) return `log #${call.logId}: SoC ${soc.value} is outside 0..100`;
    }
  }
  return undefined;
};

const transactionIdPresent: Check = (matched) => {
  for (const call of matched) {
    if (!isObject(call.payload) || typeof call.payload.transactionId !== 'number') return `log #${call.logId}: MeterValues during a transaction without transactionId`;
  }
  return undefined;
};

/** OCPP 1.6 §6.46: meterStop is the register at the end; it cannot be below the meterStart of the same transaction. */
const meterStopNotBelowStart: Check = (matched, ctx) => {
  for (const stop of matched) {
    if (!isObject(stop.payload)) continue;
    const txId = stop.payload.transactionId;
    const start = ctx.calls.find((c) => c.action === 'StartTransaction' && isObject(c.answer?.payload) && c.answer.payload.transactionId === txId);
    if (!start) return `log #${stop.logId}: no StartTransaction answered with transactionId ${String(txId)} in this case`;
    const meterStart = isObject(start.payload) ? start.payload.meterStart : undefined;
    if (typeof meterStart === 'number' && typeof stop.payload.meterStop === 'number' && stop.payload.meterStop < meterStart) {
      return `log #${stop.logId}: meterStop ${stop.payload.meterStop} < meterStart ${meterStart} (log #${start.logId})`;
    }
  }
  return undefined;
};

/**
 * OCPP 1.6 §3.6 / §4.8: transaction messages queued while offline arrive in order and once. For each matched
 * StopTransaction: exactly one StopTransaction for its transaction so far, and its MeterValues in time order, none
 * twice, none after the stop.
 */
const transactionMessagesInOrder: Check = (matched, ctx) => {
  for (const stop of matched) {
    if (!isObject(stop.payload) || typeof stop.payload.transactionId !== 'number') return `log #${stop.logId}: StopTransaction without transactionId`;
    const tx = stop.payload.transactionId;
    const stops = ctx.calls.filter((c) => c.action === 'StopTransaction' && isObject(c.payload) && c.payload.transactionId === tx);
    if (stops.length > 1) return `transaction ${tx} was stopped ${stops.length} times (logs ${stops.map((c) => `#${c.logId}`).join(', ')})`;
    const stopAt = typeof stop.payload.timestamp === 'string' ? Date.parse(stop.payload.timestamp) : NaN;
    const seen = new Set<string>();
    let last: { t: number; logId: number } | undefined;
    for (const c of ctx.calls) {
      if (c.action !== 'MeterValues' || !isObject(c.payload) || c.payload.transactionId !== tx || !Array.isArray(c.payload.meterValue)) continue;
      for (const mv of c.payload.meterValue) {
        if (!isObject(mv) || typeof mv.timestamp !== 'string') continue;
        const t = Date.parse(mv.timestamp);
        if (seen.has(mv.timestamp)) return `log #${c.logId}: the meter value of ${mv.timestamp} for transaction ${tx} arrived twice`;
        seen.add(mv.timestamp);
        if (last && t < last.t) return `log #${c.logId}: meter value of ${mv.timestamp} arrived after a later one (log #${last.logId})`;
        if (t > stopAt) return `log #${c.logId}: meter value of ${mv.timestamp} is after the StopTransaction of ${String(stop.payload.timestamp)}`;
        last = { t, logId: c.logId };
      }
    }
  }
  return undefined;
};

// flashCharge firmware (docs/charger-tests.md): DataTransfer.data is a JSON string with these fields.
const num = { type: 'number' } as const;
const VENDOR_SCHEMAS = new Map<string, object>([
  ['VehicleInfo', { type: 'object', required: ['soc', 'maxCurrent', 'model', 'range'], properties: { soc: { type: 'number', minimum: 0, maximum: 100 }, maxCurrent: num, model: { enum: ['Classic', 'Pro', 'Max', 'Unknown'] }, range: { type: 'number', minimum: 0 } } }],
  ['PreChargeData', { type: 'object', required: ['soc', 'maxCurrent', 'voltage', 'current', 'temperature'], properties: { soc: { type: 'number', minimum: 0, maximum: 100 }, maxCurrent: num, voltage: num, current: num, temperature: num, model: { type: 'string' }, range: num } }],
  ['SessionSummary', { type: 'object', required: ['finalSoc', 'energyDelivered', 'durationMinutes'], properties: { finalSoc: { type: 'number', minimum: 0, maximum: 100 }, energyDelivered: { type: 'number', minimum: 0 }, durationMinutes: { type: 'number', minimum: 0 } } }],
  ['BMSAlert', { type: 'object', required: ['alertType', 'message', 'timestamp'], properties: { alertType: { enum: ['BMS_EMERGENCY_STOP', 'BMS_CHARGING_DISABLED', 'BMS_CHARGING_ENABLED'] }, message: { type: 'string' }, timestamp: { type: 'integer', minimum: 0 } } }],
]);
const ajv = new Ajv({ allErrors: false, strict: false });
const vendorValidators = new Map([...VENDOR_SCHEMAS].map(([id, schema]) => [id, ajv.compile(schema)] as const));

const flashChargeSchema: Check = (matched) => {
  for (const call of matched) {
    const p = call.payload;
    if (!isObject(p) || p.vendorId !== 'RivotMotors') return `log #${call.logId}: vendorId is ${JSON.stringify(isObject(p) ? p.vendorId : undefined)}, expected "RivotMotors"`;
    const id = typeof p.messageId === 'string' ? p.messageId : '';
    const validate = vendorValidators.get(id);
    if (!validate) return `log #${call.logId}: messageId ${JSON.stringify(p.messageId)} is not one of ${[...VENDOR_SCHEMAS.keys()].join(', ')}`;
    if (typeof p.data !== 'string') return `log #${call.logId}: data must be a JSON string (OCPP 1.6 DataTransfer.data is a string)`;
    let data: unknown;
    try {
      data = JSON.parse(p.data);
    } catch {
      return `log #${call.logId}: data is not JSON: ${p.data.slice(0, 80)}`;
    }
    if (!validate(data)) {
      const e = validate.errors?.[0];
      return `log #${call.logId}: ${id} data${e?.instancePath ?? ''} ${e?.message ?? 'invalid'}`;
    }
  }
  return undefined;
};

export const CHECKS: ReadonlyMap<string, Check> = new Map([
  ['energyMonotonic', energyMonotonic],
  ['powerMatchesVoltageCurrent', powerMatchesVoltageCurrent],
  ['socInRange', socInRange],
  ['transactionIdPresent', transactionIdPresent],
  ['meterStopNotBelowStart', meterStopNotBelowStart],
  ['transactionMessagesInOrder', transactionMessagesInOrder],
  ['flashChargeSchema', flashChargeSchema],
]);
