// Applies one registry entry (vendor-registry.ts) to a decoded DataTransfer object: the JSON Schema first (a
// property that breaks it is left out with a finding; an error at the top level rejects the message), then each
// field rule (read, convert, range, value table), then the entry's named derivation.
import type { ErrorObject } from 'ajv';
import { describeJson } from '../ocpp/wire-text.js';
import type { EventDataMap, Mutable, VehicleData } from './catalogue.js';
import { deriveVehicle } from './vehicle-model.js';
import type { FieldRule, VendorMessage } from './vendor-registry.js';
import { bounded, decodeHtmlEntities, type VendorFinding } from './vendor-text.js';

export const VENDOR_RULE = 'vendorData';

export type Mapped =
  | { readonly type: 'preChargeData'; readonly data: EventDataMap['preChargeData']; readonly findings: readonly VendorFinding[] }
  | { readonly type: 'sessionSummary'; readonly data: EventDataMap['sessionSummary']; readonly findings: readonly VendorFinding[] }
  | { readonly type: 'bmsAlert'; readonly data: EventDataMap['bmsAlert']; readonly findings: readonly VendorFinding[] }
  | { readonly type: 'vendorEvent'; readonly data: EventDataMap['vendorEvent']; readonly findings: readonly VendorFinding[] }
  | { readonly type: 'none'; readonly findings: readonly VendorFinding[] };

export interface MappingContext {
  /** As the station sent them, HTML-decoded. */
  readonly vendorId: string;
  readonly messageId: string;
  readonly kmPerAh: number;
  readonly maxDataBytes: number;
}

/** The top-level property an ajv error is about ('' for the object itself). */
function topProperty(e: ErrorObject): string {
  const first = e.instancePath.split('/')[1];
  return first === undefined ? '' : first.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Walks a dotted path through own properties and array indexes; "$" is the object itself. */
function read(obj: Record<string, unknown>, from: string, rejected: ReadonlySet<string>): unknown {
  if (from === '$') return obj;
  const parts = from.split('.');
  if (rejected.has(parts[0]!)) return undefined;
  let cur: unknown = obj;
  for (const p of parts) {
    if (Array.isArray(cur) && /^\d+$/.test(p)) cur = cur[Number(p)];
    else if (cur !== null && typeof cur === 'object' && !Array.isArray(cur) && Object.hasOwn(cur, p)) cur = (cur as Record<string, unknown>)[p];
    else return undefined;
  }
  return cur;
}

type Converted = { readonly ok: true; readonly value: unknown; readonly bytes?: number } | { readonly ok: false };

function convert(rule: FieldRule, v: unknown, findings: VendorFinding[], maxDataBytes: number): Converted {
  const bad = (want: string): Converted => {
    findings.push({ rule: VENDOR_RULE, field: rule.from, message: `${rule.from} must be ${want}, got ${describeJson(v)}` });
    return { ok: false };
  };
  switch (rule.as) {
    case 'number':
    case 'integer': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n)) return bad(rule.as === 'number' ? 'a number' : 'an integer');
      if (rule.as === 'integer' && !Number.isInteger(n)) return bad('an integer');
      if ((rule.min !== undefined && n < rule.min) || (rule.max !== undefined && n > rule.max)) {
        findings.push({ rule: VENDOR_RULE, field: rule.from, message: `${rule.from} ${n} is outside ${rule.min ?? '-∞'}..${rule.max ?? '∞'}` });
        return { ok: false };
      }
      return { ok: true, value: n };
    }
    case 'string':
      return typeof v === 'string' ? { ok: true, value: decodeHtmlEntities(v) } : bad('a string');
    case 'boolean':
      if (typeof v === 'boolean') return { ok: true, value: v };
      if (v === 'true' || v === 'false') return { ok: true, value: v === 'true' };
      return bad('true or false');
    case 'json': {
      const b = bounded(v, maxDataBytes, findings);
      return { ok: true, value: b.data, ...(b.dataBytes !== undefined ? { bytes: b.dataBytes } : {}) };
    }
  }
}

/** Never throws; unreadable data gives `none` with findings. */
export function applyVendorMessage(entry: VendorMessage, obj: Record<string, unknown>, ctx: MappingContext): Mapped {
  const findings: VendorFinding[] = [];
  const rejected = new Set<string>();
  if (!entry.validate(obj)) {
    for (const e of entry.validate.errors ?? []) {
      const prop = topProperty(e);
      findings.push({ rule: VENDOR_RULE, field: prop === '' ? 'data' : prop, message: `${ctx.messageId}: data${e.instancePath} ${e.message ?? 'is invalid'}` });
      if (prop === '') return { type: 'none', findings };
      rejected.add(prop);
    }
  }
  // Event field name → value; names come from the operator's file, never from the wire.
  const values = new Map<string, unknown>();
  for (const [name, rule] of entry.emits.fields) {
    const raw = read(obj, rule.from, rejected);
    if (raw === undefined || raw === null) continue;
    const c = convert(rule, raw, findings, ctx.maxDataBytes);
    if (!c.ok) continue;
    if (rule.map) {
      const mapped = rule.map.get(String(c.value));
      if (mapped === undefined || mapped === null) continue;
      values.set(name, mapped);
    } else {
      values.set(name, c.value);
    }
    if (c.bytes !== undefined) values.set(`${name}Bytes`, c.bytes);
  }
  const fields = Object.fromEntries(values);
  switch (entry.emits.type) {
    case 'preChargeData': {
      const v = fields as Mutable<VehicleData>;
      const vehicle = entry.emits.derive === 'vehicle' ? deriveVehicle(v, ctx.kmPerAh) : v;
      return { type: 'preChargeData', data: { ...vehicle, messageId: ctx.messageId, vendorId: ctx.vendorId }, findings };
    }
    case 'sessionSummary':
      return { type: 'sessionSummary', data: fields as EventDataMap['sessionSummary'], findings };
    case 'bmsAlert':
      return { type: 'bmsAlert', data: { ...(fields as Omit<EventDataMap['bmsAlert'], 'raw'>), raw: values.get('raw') ?? null }, findings };
    case 'vendorEvent':
      return { type: 'vendorEvent', data: { vendorId: ctx.vendorId, messageId: ctx.messageId, values: fields }, findings };
  }
}
