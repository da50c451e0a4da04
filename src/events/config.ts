// Settings of the event model, from the environment.
import { envInt, envNumber, envString, type Env } from '../config-env.js';
import { DEFAULT_KM_PER_AH, DEFAULT_VENDOR_ID } from './vehicle.js';

export interface EventsConfig {
  /** Vendor whose PreChargeData / VehicleInfo / SessionSummary / BMSAlert DataTransfers are understood. */
  readonly vendorId: string;
  /** Range per Ah of battery charge, as the firmware computes it. */
  readonly kmPerAh: number;
  /** Events kept per station for replay by seq. */
  readonly historyPerStation: number;
  /** Byte budgets of the history: per station, in total, per event (see history.ts). */
  readonly historyStationBytes: number;
  readonly historyTotalBytes: number;
  readonly maxEventBytes: number;
  /** DataTransfer data (and vendor objects) longer than this are kept cut short, with a finding. */
  readonly maxDataBytes: number;
  /** A station's frame findings sent as events per second at most; the rest are counted in one report a second. */
  readonly findingsPerSecond: number;
  /** More vendor message files (EVENTS_VENDOR_MESSAGES_DIR), read after the shipped vendor-messages/. */
  readonly vendorMessagesDir?: string;
}

const MiB = 1024 * 1024;

export function parseEventsConfig(env: Env): EventsConfig {
  const vendorMessagesDir = envString(env, 'EVENTS_VENDOR_MESSAGES_DIR');
  return {
    ...(vendorMessagesDir !== undefined ? { vendorMessagesDir } : {}),
    vendorId: envString(env, 'EVENTS_VENDOR_ID') ?? DEFAULT_VENDOR_ID,
    kmPerAh: envNumber(env, 'EVENTS_KM_PER_AH', DEFAULT_KM_PER_AH, 0.01, 1000),
    historyPerStation: envInt(env, 'EVENTS_HISTORY_PER_STATION', 1000, 10, 1_000_000),
    historyStationBytes: envInt(env, 'EVENTS_HISTORY_STATION_BYTES', 2 * MiB, 64 * 1024),
    historyTotalBytes: envInt(env, 'EVENTS_HISTORY_TOTAL_BYTES', 256 * MiB, MiB),
    maxEventBytes: envInt(env, 'EVENTS_MAX_EVENT_BYTES', 64 * 1024, 4096),
    maxDataBytes: envInt(env, 'EVENTS_DATA_MAX_BYTES', 8 * 1024, 256),
    findingsPerSecond: envInt(env, 'EVENTS_FINDINGS_PER_SECOND', 10, 1, 1_000_000),
  };
}
