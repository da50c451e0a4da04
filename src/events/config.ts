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
}

export function parseEventsConfig(env: Env): EventsConfig {
  return {
    vendorId: envString(env, 'EVENTS_VENDOR_ID') ?? DEFAULT_VENDOR_ID,
    kmPerAh: envNumber(env, 'EVENTS_KM_PER_AH', DEFAULT_KM_PER_AH, 0.01, 1000),
    historyPerStation: envInt(env, 'EVENTS_HISTORY_PER_STATION', 1000, 10, 1_000_000),
  };
}
