// One connector of a simulated station: what is plugged in, the transaction on it, the energy register and
// the status MicroOcpp would derive from those inputs. No protocol here; the station turns changes into messages.
import { MODELS, newBattery, stepBattery, batteryAh, rangeKm, AMBIENT_C, type BatteryState, type ChargerLimits, type VehicleModel } from './battery.js';
import type { VehicleSpec } from './spec.js';
import type { Measurand } from './keys.js';

export type ConnectorStatus =
  | 'Available' | 'Preparing' | 'Charging' | 'SuspendedEVSE' | 'SuspendedEV' | 'Finishing' | 'Reserved' | 'Unavailable' | 'Faulted';

/** A ReserveNow the connector accepted (OCPP 1.6 §5.13): held for `idTag` until `expiresAt` (station ms). */
export interface Reservation {
  readonly id: number;
  readonly idTag: string;
  readonly parentIdTag: string | undefined;
  readonly expiresAt: number;
}

export interface ActiveTx {
  /** Station-local number; the central system's transactionId arrives later (possibly after an offline period). */
  readonly local: number;
  id: number | undefined;
  readonly idTag: string;
  readonly startedAt: number;
  readonly meterStart: number;
}

export interface Vehicle {
  readonly battery: BatteryState;
  readonly departAfterTargetS: number | undefined;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** The firmware's VehicleInfo while a vehicle is plugged in and not charging: first after plug-in (or a boot), then every. */
export const VEHICLE_INFO_FIRST_MS = 3000;
export const VEHICLE_INFO_EVERY_MS = 5000;

export class Connector {
  status: ConnectorStatus = 'Available';
  errorCode = 'NoError';
  info: string | undefined;
  /** Last status the central system acknowledged / last one queued (key "status/errorCode"). */
  confirmed: string | undefined;
  enqueued: string | undefined;

  vehicle: Vehicle | undefined;
  tx: ActiveTx | undefined;
  /** A tag accepted before the cable was plugged in; the session starts when it is, or expires. */
  pendingAuth: { idTag: string; until: number } | undefined;
  /** A transaction ended while the cable is still in (Finishing). */
  finishing = false;
  fault: { errorCode: string; info: string | undefined } | undefined;
  inoperative = false;
  inoperativeScheduled = false;
  reservation: Reservation | undefined;
  evsePaused = false;
  bmsSafe = true;

  /** Energy register in Wh (float; reported rounded). */
  energyWh = 0;
  temperatureC = AMBIENT_C;
  lastStepAt: number;
  /** When to take the next periodic sample / send the next VehicleInfo / unplug; Infinity when not due. */
  meterDue = Infinity;
  vehicleInfoDue = Infinity;
  departAt = Infinity;
  autoAt = Infinity;
  autoPhase: 'idle' | 'plugged' | 'session' = 'idle';

  constructor(
    readonly id: number,
    now: number,
  ) {
    this.lastStepAt = now;
  }

  /** Energy flows only inside a transaction with the cable in, the BMS permitting and the EVSE not paused. */
  gateOpen(): boolean {
    return this.tx !== undefined && this.vehicle !== undefined && this.bmsSafe && !this.evsePaused && this.fault === undefined;
  }

  plug(spec: VehicleSpec, fallback: Required<Pick<VehicleSpec, 'model' | 'initialSoc' | 'targetSoc'>>, now: number): void {
    const model: VehicleModel = spec.model ?? fallback.model;
    const initial = spec.initialSoc ?? fallback.initialSoc;
    const target = spec.targetSoc ?? fallback.targetSoc;
    const battery = newBattery(model, initial, target);
    battery.temperatureC = this.temperatureC;
    this.vehicle = { battery, departAfterTargetS: spec.departAfterTargetS };
    this.bmsSafe = true;
    this.lastStepAt = now;
  }

  /** Integrates the battery and the energy register up to `now` in steps of at most one second. */
  advance(now: number, limits: ChargerLimits): void {
    if (this.reservation && this.reservation.expiresAt <= now) this.reservation = undefined;
    const dtS = (now - this.lastStepAt) / 1000;
    this.lastStepAt = now;
    if (dtS <= 0) return;
    const b = this.vehicle?.battery;
    if (!b) {
      // Idle charger module cools towards ambient.
      this.temperatureC = AMBIENT_C + (this.temperatureC - AMBIENT_C) * Math.exp(-dtS / 600);
      return;
    }
    const steps = Math.min(3600, Math.ceil(dtS));
    const dt = dtS / steps;
    const open = this.gateOpen();
    for (let i = 0; i < steps; i++) this.energyWh += stepBattery(b, dt, limits, open);
    this.temperatureC = b.temperatureC;
  }

  /** The status MicroOcpp derives from the inputs (fault, availability, plug, transaction, EV/EVSE readiness). */
  derive(stationInoperative: boolean): ConnectorStatus {
    if (this.fault) return 'Faulted';
    if (this.tx) {
      if (this.evsePaused) return 'SuspendedEVSE';
      const b = this.vehicle?.battery;
      if (!this.bmsSafe || !b || b.full) return 'SuspendedEV';
      return 'Charging';
    }
    if (this.inoperative || stationInoperative) return 'Unavailable';
    if (this.reservation && !this.vehicle && !this.pendingAuth) return 'Reserved';
    if (this.finishing && this.vehicle) return 'Finishing';
    if (this.vehicle || this.pendingAuth) return 'Preparing';
    return 'Available';
  }

  registerWh(): number {
    return Math.round(this.energyWh);
  }

  sample(measurands: readonly string[], bmsMaxFallback: number): { measurand: Measurand; value: string; unit: string }[] {
    const b = this.vehicle?.battery;
    const out: { measurand: Measurand; value: string; unit: string }[] = [];
    for (const m of measurands) {
      switch (m) {
        case 'Energy.Active.Import.Register': out.push({ measurand: m, value: String(this.registerWh()), unit: 'Wh' }); break;
        case 'Power.Active.Import': out.push({ measurand: m, value: String(round2(b ? b.voltageV * b.currentA : 0)), unit: 'W' }); break;
        case 'Voltage': out.push({ measurand: m, value: String(round2(b ? b.voltageV : 0)), unit: 'V' }); break;
        case 'Current.Import': out.push({ measurand: m, value: String(round2(b ? b.currentA : 0)), unit: 'A' }); break;
        case 'Current.Offered': out.push({ measurand: m, value: String(b ? MODELS[b.model].bmsMaxA : bmsMaxFallback), unit: 'A' }); break;
        case 'SoC': if (b) out.push({ measurand: m, value: String(round2(b.soc)), unit: 'Percent' }); break;
        case 'Temperature': out.push({ measurand: m, value: String(round2(this.temperatureC)), unit: 'Celsius' }); break;
        default: break;
      }
    }
    return out;
  }

  /** The firmware's pre-charge snapshot (VehicleInfo at HEAD; PreChargeData adds the electrical figures). */
  vehicleSnapshot(messageId: 'VehicleInfo' | 'PreChargeData'): Record<string, number | string> | undefined {
    const b = this.vehicle?.battery;
    if (!b) return undefined;
    const base = { soc: round2(b.soc), maxCurrent: MODELS[b.model].bmsMaxA, model: b.model, range: round2(rangeKm(b)) };
    if (messageId === 'VehicleInfo') return base;
    return { soc: base.soc, maxCurrent: base.maxCurrent, voltage: round2(b.voltageV), current: round2(b.currentA), temperature: round2(this.temperatureC), model: b.model, range: base.range };
  }

  view(): ConnectorView {
    const b = this.vehicle?.battery;
    return {
      connectorId: this.id,
      status: this.status,
      errorCode: this.errorCode,
      plugged: this.vehicle !== undefined,
      ...(this.tx ? { idTag: this.tx.idTag } : {}),
      ...(this.tx?.id !== undefined ? { transactionId: this.tx.id } : {}),
      ...(b ? { model: b.model, soc: round2(b.soc), targetSoc: b.targetSoc, batteryAh: round2(batteryAh(b)) } : {}),
      voltageV: round2(b?.voltageV ?? 0),
      currentA: round2(b?.currentA ?? 0),
      powerW: round2(b ? b.voltageV * b.currentA : 0),
      energyWh: this.registerWh(),
      temperatureC: round2(this.temperatureC),
    };
  }
}

export interface ConnectorView {
  readonly connectorId: number;
  readonly status: ConnectorStatus;
  readonly errorCode: string;
  readonly plugged: boolean;
  readonly idTag?: string;
  readonly transactionId?: number;
  readonly model?: VehicleModel;
  readonly soc?: number;
  readonly targetSoc?: number;
  readonly batteryAh?: number;
  readonly voltageV: number;
  readonly currentA: number;
  readonly powerW: number;
  readonly energyWh: number;
  readonly temperatureC: number;
}
