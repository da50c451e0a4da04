// flashCharge vendor DataTransfer: PreChargeData / VehicleInfo, SessionSummary, BMSAlert.
// Pure functions shared by the wire extractor and the binlog (data_transfer table) path, so the same
// bytes always give the same event, whichever side saw them first.
import { MAX_FRAME_DEPTH } from '../ocpp/frames.js';
import { clip, describeJson, nestingExceeds } from '../ocpp/wire-text.js';
import type { EventDataMap, Mutable, VehicleData } from './catalogue.js';
import { exceedsDepth, MAX_SAFE_DEPTH, truncateUtf8, tryStringify } from './json-safety.js';

export const DEFAULT_VENDOR_ID = 'RivotMotors';
/** Firmware value (rangeKm = batteryAh × 2.7); the old backend used 2.8. */
export const DEFAULT_KM_PER_AH = 2.7;

export interface VendorOptions {
  readonly vendorId: string;
  readonly kmPerAh: number;
  /** Data (as JSON text) longer than this is kept cut short with a finding (default DEFAULT_MAX_DATA_BYTES). */
  readonly maxDataBytes?: number;
}

/** Default of EVENTS_DATA_MAX_BYTES. */
export const DEFAULT_MAX_DATA_BYTES = 8 * 1024;

export interface VendorFinding {
  readonly rule: string;
  readonly field?: string;
  readonly message: string;
}

/** What one DataTransfer request means, plus whatever was wrong with it. */
export type Interpreted =
  | { readonly type: 'preChargeData'; readonly data: EventDataMap['preChargeData']; readonly findings: readonly VendorFinding[] }
  | { readonly type: 'sessionSummary'; readonly data: EventDataMap['sessionSummary']; readonly findings: readonly VendorFinding[] }
  | { readonly type: 'bmsAlert'; readonly data: EventDataMap['bmsAlert']; readonly findings: readonly VendorFinding[] }
  | { readonly type: 'dataTransfer'; readonly data: EventDataMap['dataTransfer']; readonly findings: readonly VendorFinding[] }
  /** The payload could not be read at all: only findings. */
  | { readonly type: 'none'; readonly findings: readonly VendorFinding[] };

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  quot: '"', amp: '&', lt: '<', gt: '>', apos: "'", nbsp: '\u00a0',
};

/**
 * SteVe HTML-encodes every JSON string it receives (OWASP Encode.forHtml), so stored DataTransfer data reads
 * `{&#34;soc&#34;:42}`. Decodes named, decimal and hex entities in one pass (no double decoding).
 */
export function decodeHtmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,6});/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

type Parsed = { readonly ok: true; readonly value: Record<string, unknown> } | { readonly ok: false; readonly message: string };

/** DataTransfer.data is a JSON string per OCPP 1.6; some senders put an object there. */
export function parseVendorData(data: unknown): Parsed {
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) return { ok: true, value: data as Record<string, unknown> };
  if (typeof data !== 'string') return { ok: false, message: `data must be a JSON object or a string holding one, got ${data === null ? 'null' : Array.isArray(data) ? 'array' : typeof data}` };
  const text = decodeHtmlEntities(data).trim();
  // The frame's depth was checked, but this string is a second document: check it before anything recurses over it.
  if (nestingExceeds(text, MAX_FRAME_DEPTH)) return { ok: false, message: `data JSON is nested deeper than ${MAX_FRAME_DEPTH} levels` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `data is not JSON: ${clip((err as Error).message, 120)}` };
  }
  // A string holding a JSON string holding the object (double encoding) is seen in the field; unwrap once.
  if (typeof value === 'string') return parseVendorData(value);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, message: 'data JSON is not an object' };
  return { ok: true, value: value as Record<string, unknown> };
}

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

type Fields<T> = { -readonly [K in keyof T]?: T[K] };

function readNumber(obj: Record<string, unknown>, key: string, findings: VendorFinding[], rule: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) {
    findings.push({ rule, field: key, message: `${key} must be a number, got ${describeJson(v)}` });
    return undefined;
  }
  return n;
}

function readString(obj: Record<string, unknown>, key: string, findings: VendorFinding[], rule: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    findings.push({ rule, field: key, message: `${key} must be a string, got ${describeJson(v)}` });
    return undefined;
  }
  return decodeHtmlEntities(v);
}

export const VEHICLE_MESSAGE_IDS: readonly string[] = ['PreChargeData', 'VehicleInfo'];
const RULE = 'vendorData';

/** Turns one DataTransfer request into the event it stands for. Never throws. */
export function interpretDataTransfer(req: { vendorId: string; messageId?: string; data?: unknown }, opts: VendorOptions): Interpreted {
  const vendorId = decodeHtmlEntities(req.vendorId);
  const messageId = req.messageId === undefined ? undefined : decodeHtmlEntities(req.messageId);
  const ours = vendorId === opts.vendorId;
  const maxBytes = opts.maxDataBytes ?? DEFAULT_MAX_DATA_BYTES;
  if (!ours || messageId === undefined || !(VEHICLE_MESSAGE_IDS.includes(messageId) || messageId === 'SessionSummary' || messageId === 'BMSAlert')) {
    const findings: VendorFinding[] = [];
    const data = req.data === undefined ? undefined : bounded(decodeData(req.data), maxBytes, findings);
    return {
      type: 'dataTransfer',
      data: { vendorId, ...(messageId !== undefined ? { messageId } : {}), ...(data !== undefined ? data : {}) },
      findings,
    };
  }
  const parsed = parseVendorData(req.data);
  if (!parsed.ok) return { type: 'none', findings: [{ rule: RULE, field: 'data', message: `${messageId}: ${parsed.message}` }] };
  const obj = parsed.value;
  const findings: VendorFinding[] = [];

  if (messageId === 'SessionSummary') {
    const d: Fields<EventDataMap['sessionSummary']> = {};
    for (const k of ['finalSoc', 'energyDelivered', 'durationMinutes'] as const) {
      const n = readNumber(obj, k, findings, RULE);
      if (n !== undefined) d[k] = n;
    }
    return { type: 'sessionSummary', data: d, findings };
  }
  if (messageId === 'BMSAlert') {
    const alert = readString(obj, 'alertType', findings, RULE);
    // CHARGING_ENABLED is the only edge that grants permission; the other two withdraw it.
    const permission = alert === undefined ? undefined : alert === 'BMS_CHARGING_ENABLED' ? true : alert === 'BMS_CHARGING_DISABLED' || alert === 'BMS_EMERGENCY_STOP' ? false : undefined;
    const raw = bounded(obj, maxBytes, findings);
    return { type: 'bmsAlert', data: { ...(alert !== undefined ? { alert } : {}), ...(permission !== undefined ? { permission } : {}), raw: raw.data, ...(raw.dataBytes !== undefined ? { rawBytes: raw.dataBytes } : {}) }, findings };
  }
  const v: Fields<VehicleData> = {};
  for (const k of ['soc', 'maxCurrent', 'voltage', 'current', 'temperature', 'range'] as const) {
    const n = readNumber(obj, k, findings, RULE);
    if (n !== undefined) v[k] = n;
  }
  if (v.soc !== undefined && (v.soc < 0 || v.soc > 100)) {
    findings.push({ rule: RULE, field: 'soc', message: `soc ${v.soc} is outside 0..100` });
    delete v.soc;
  }
  const model = readString(obj, 'model', findings, RULE);
  if (model !== undefined) v.model = model;
  return { type: 'preChargeData', data: { ...deriveVehicle(v, opts.kmPerAh), messageId, vendorId }, findings };
}

/**
 * Data as it may be kept in an event: as sent when its JSON fits in `maxBytes`, else its JSON text cut short, with
 * its full size in `dataBytes` and a finding. Too deep to serialise safely counts as too large.
 */
function bounded(data: unknown, maxBytes: number, findings: VendorFinding[]): { data: unknown; dataBytes?: number } {
  if (typeof data === 'string' && data.length * 3 <= maxBytes) return { data };
  const text = typeof data === 'string' ? data : exceedsDepth(data, MAX_SAFE_DEPTH - 4) ? undefined : tryStringify(data);
  const bytes = text === undefined ? undefined : Buffer.byteLength(text);
  if (bytes !== undefined && bytes <= maxBytes) return { data };
  findings.push({
    rule: 'event.data-truncated',
    field: 'data',
    message:
      text === undefined
        ? `data nests too deep to keep: dropped (see the message log for the frame)`
        : `data of ${bytes} bytes is longer than EVENTS_DATA_MAX_BYTES (${maxBytes}): the event keeps its first ${maxBytes} bytes`,
  });
  return { data: text === undefined ? '' : truncateUtf8(text, maxBytes), dataBytes: bytes ?? -1 };
}

/** Other vendors' data is kept as sent, minus SteVe's HTML encoding. */
function decodeData(data: unknown): unknown {
  return typeof data === 'string' ? decodeHtmlEntities(data) : data;
}
