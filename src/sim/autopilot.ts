// The autopilot: a station that runs sessions on its own (arrive, wait, present the tag, charge, leave after a
// dwell), so the embedded gateway shows charging at once. It only decides when; the station does the acting.
import { VEHICLE_MODELS, type VehicleModel } from './battery.js';
import type { Connector } from './connector.js';
import type { AutopilotSpec, SimStationSpec, VehicleSpec } from './spec.js';

export interface AutopilotHost {
  readonly spec: SimStationSpec;
  readonly random: () => number;
  plugIn(c: Connector, vehicle: VehicleSpec, now: number): void;
  /** Presents the station's tag; false when the connector cannot start. */
  presentTag(c: Connector, now: number): boolean;
}

export function autopilotSettings(spec: SimStationSpec): Required<AutopilotSpec> {
  const a = typeof spec.autopilot === 'object' ? spec.autopilot : {};
  return {
    idleS: a.idleS ?? [30, 120],
    tagAfterS: a.tagAfterS ?? 10,
    dwellS: a.dwellS ?? 60,
    initialSoc: a.initialSoc ?? [20, 60],
    targetSoc: a.targetSoc ?? [80, 90],
    models: a.models ?? VEHICLE_MODELS,
  };
}

/** At power-on: the first arrival on each free connector, a little after the boot. */
export function armAutopilot(host: AutopilotHost, plugs: readonly Connector[], bootDelayMs: number, now: number): void {
  if (!host.spec.autopilot) return;
  for (const c of plugs) {
    if (c.vehicle || c.tx) continue;
    c.autoPhase = 'idle';
    c.autoAt = now + bootDelayMs + 3000 + host.random() * 10_000;
  }
}

/** The vehicle left: the next one arrives after an idle time. */
export function autoIdle(host: AutopilotHost, c: Connector, now: number): void {
  const [lo, hi] = autopilotSettings(host.spec).idleS;
  c.autoPhase = 'idle';
  c.autoAt = now + (lo + host.random() * (hi - lo)) * 1000;
}

export function autopilotStep(host: AutopilotHost, c: Connector, now: number): void {
  c.autoAt = Infinity;
  const a = autopilotSettings(host.spec);
  const pick = ([lo, hi]: readonly [number, number]): number => Math.round(lo + host.random() * (hi - lo));
  if (c.autoPhase === 'idle') {
    if (c.vehicle || c.fault) return autoIdle(host, c, now);
    const model: VehicleModel = a.models[Math.floor(host.random() * a.models.length)] ?? 'Classic';
    const initialSoc = pick(a.initialSoc);
    host.plugIn(c, { model, initialSoc, targetSoc: Math.max(initialSoc + 5, pick(a.targetSoc)), departAfterTargetS: a.dwellS }, now);
    c.autoPhase = 'plugged';
    c.autoAt = now + a.tagAfterS * 1000;
  } else if (c.autoPhase === 'plugged') {
    c.autoPhase = 'session';
    if (!host.presentTag(c, now)) c.departAt = now + a.dwellS * 1000;
  }
}
