// flashCharge vendor DataTransfer: PreChargeData / VehicleInfo, SessionSummary, BMSAlert, and any message an
// operator describes in vendor-messages/ — all decoded through the vendor message registry (vendor-registry.ts).
// Pure functions shared by the wire extractor and the binlog (data_transfer table) path, so the same
// bytes always give the same event, whichever side saw them first.
import type { EventDataMap } from './catalogue.js';
import { applyVendorMessage, VENDOR_RULE } from './vendor-mapping.js';
import { builtinVendorRegistry, type VendorRegistry } from './vendor-registry.js';
import { bounded, decodeData, decodeHtmlEntities, DEFAULT_MAX_DATA_BYTES, parseVendorData, type VendorFinding } from './vendor-text.js';

export { capacityAh, DEFAULT_KM_PER_AH, deriveVehicle, knownModel, modelFromMaxCurrent, type ModelName } from './vehicle-model.js';
export { decodeHtmlEntities, DEFAULT_MAX_DATA_BYTES, parseVendorData, type VendorFinding } from './vendor-text.js';

export const DEFAULT_VENDOR_ID = 'RivotMotors';

export interface VendorOptions {
  /** The flashCharge vendor (EVENTS_VENDOR_ID): registry entries with vendorId "$EVENTS_VENDOR_ID" are its. */
  readonly vendorId: string;
  readonly kmPerAh: number;
  /** Data (as JSON text) longer than this is kept cut short with a finding (default DEFAULT_MAX_DATA_BYTES). */
  readonly maxDataBytes?: number;
  /** Which messages are understood (default: the shipped vendor-messages/ alone). */
  readonly registry?: VendorRegistry;
}

/** What one DataTransfer request means, plus whatever was wrong with it. */
export type Interpreted =
  | { readonly type: 'preChargeData'; readonly data: EventDataMap['preChargeData']; readonly findings: readonly VendorFinding[] }
  | { readonly type: 'sessionSummary'; readonly data: EventDataMap['sessionSummary']; readonly findings: readonly VendorFinding[] }
  | { readonly type: 'bmsAlert'; readonly data: EventDataMap['bmsAlert']; readonly findings: readonly VendorFinding[] }
  | { readonly type: 'vendorEvent'; readonly data: EventDataMap['vendorEvent']; readonly findings: readonly VendorFinding[] }
  | { readonly type: 'dataTransfer'; readonly data: EventDataMap['dataTransfer']; readonly findings: readonly VendorFinding[] }
  /** The payload could not be read at all: only findings. */
  | { readonly type: 'none'; readonly findings: readonly VendorFinding[] };

/** Turns one DataTransfer request into the event it stands for. Never throws. */
export function interpretDataTransfer(req: { vendorId: string; messageId?: string; data?: unknown }, opts: VendorOptions): Interpreted {
  const vendorId = decodeHtmlEntities(req.vendorId);
  const messageId = req.messageId === undefined ? undefined : decodeHtmlEntities(req.messageId);
  const maxBytes = opts.maxDataBytes ?? DEFAULT_MAX_DATA_BYTES;
  const entry = messageId === undefined ? undefined : (opts.registry ?? builtinVendorRegistry()).get(vendorId, messageId, opts.vendorId);
  if (entry === undefined || messageId === undefined) {
    // Messages nobody described are kept as sent, minus SteVe's HTML encoding.
    const findings: VendorFinding[] = [];
    const data = req.data === undefined ? undefined : bounded(decodeData(req.data), maxBytes, findings);
    return {
      type: 'dataTransfer',
      data: { vendorId, ...(messageId !== undefined ? { messageId } : {}), ...(data !== undefined ? data : {}) },
      findings,
    };
  }
  const parsed = parseVendorData(req.data);
  if (!parsed.ok) return { type: 'none', findings: [{ rule: VENDOR_RULE, field: 'data', message: `${messageId}: ${parsed.message}` }] };
  return applyVendorMessage(entry, parsed.value, { vendorId, messageId, kmPerAh: opts.kmPerAh, maxDataBytes: maxBytes });
}
