// What happens at a simulated charger itself, whoever causes it (the operator's actions, the autopilot, an
// authorisation from the central system): the cable, the tag, faults, the EVSE pausing, and the BMS granting or
// withdrawing permission (with its RivotMotors BMSAlert). Each input may start or stop a session.
import type { AutopilotHost } from './autopilot.js';
import { autoIdle } from './autopilot.js';
import type { Boot } from './boot.js';
import { VEHICLE_INFO_FIRST_MS, type Connector } from './connector.js';
import type { KeyStore } from './keys.js';
import type { Outbox } from './outbox.js';
import { DEFAULT_ID_TAG, type BmsAlertType, type SimAction, type SimStationSpec, type VehicleSpec } from './spec.js';
import { isRecord, type StationEnv } from './station-env.js';
import type { Statuses } from './statuses.js';
import type { Transactions } from './transactions.js';

export interface ActResult {
  readonly ok: boolean;
  readonly message?: string;
}

/** What the inputs need from their station (the station itself: no per-station closures). */
export interface LocalInputsHost {
  readonly spec: SimStationSpec;
  readonly keys: KeyStore;
  linkOpen(): boolean;
  /** The next wake-up may have changed. */
  scheduleWake(): void;
}

const BMS_MESSAGES: Record<BmsAlertType, string> = {
  BMS_EMERGENCY_STOP: 'BMS emergency stop',
  BMS_CHARGING_DISABLED: 'BMS not ready for charging',
  BMS_CHARGING_ENABLED: 'BMS ready for charging',
};

export class LocalInputs {
  constructor(
    private readonly host: LocalInputsHost,
    private readonly tx: Transactions,
    private readonly outbox: Outbox,
    private readonly statuses: Statuses,
    private readonly boot: Boot,
    private readonly env: StationEnv,
  ) {}

  /** An operator's action on connector `c` (the caller has advanced it to `now`). */
  act(c: Connector, action: SimAction, now: number): ActResult {
    let result: ActResult = { ok: true };
    switch (action.type) {
      case 'plugIn':
        result = this.plugIn(c, action.vehicle ?? {}, now);
        break;
      case 'plugOut':
        result = this.plugOut(c, now);
        break;
      case 'presentTag':
        result = this.presentTag(c, action.idTag ?? this.#idTag(), now);
        break;
      case 'start':
        if (c.tx) return { ok: false, message: 'a transaction is already running' };
        if (!c.vehicle) this.plugIn(c, action.vehicle ?? {}, now);
        result = this.presentTag(c, action.idTag ?? this.#idTag(), now);
        break;
      case 'stop':
        if (!c.tx) return { ok: false, message: 'no transaction' };
        this.tx.stop(c, 'Local', now, c.tx.idTag);
        break;
      case 'fault':
        c.fault = { errorCode: action.errorCode ?? 'OtherError', info: action.info };
        if (c.tx) this.tx.stop(c, 'Other', now);
        break;
      case 'clearFault':
        if (!c.fault) return { ok: false, message: 'not faulted' };
        c.fault = undefined;
        break;
      case 'bmsAlert':
        result = this.#bmsAlert(c, action.alertType ?? (c.bmsSafe ? 'BMS_CHARGING_DISABLED' : 'BMS_CHARGING_ENABLED'), now);
        break;
      case 'evsePause':
        c.evsePaused = true;
        break;
      case 'evseResume':
        c.evsePaused = false;
        break;
    }
    this.statuses.refresh(c);
    this.outbox.pump();
    this.host.scheduleWake();
    return result;
  }

  /** For the autopilot, which decides when; built when it acts (rarely), not kept per station. */
  autopilot(): AutopilotHost {
    return {
      spec: this.host.spec,
      random: this.env.random,
      plugIn: (c, vehicle, now) => void this.plugIn(c, vehicle, now),
      presentTag: (c, now) => this.presentTag(c, this.#idTag(), now).ok,
    };
  }

  plugIn(c: Connector, vehicle: VehicleSpec, now: number): ActResult {
    if (c.vehicle) return { ok: false, message: 'already plugged in' };
    c.plug({ ...this.host.spec.vehicle, ...vehicle }, this.#vehicleDefaults(), now);
    c.finishing = false;
    c.vehicleInfoDue = now + VEHICLE_INFO_FIRST_MS;
    if (c.pendingAuth) {
      const { idTag } = c.pendingAuth;
      c.pendingAuth = undefined;
      this.tx.start(c, idTag, now);
    }
    return { ok: true };
  }

  plugOut(c: Connector, now: number): ActResult {
    if (!c.vehicle) return { ok: false, message: 'nothing plugged in' };
    if (c.tx && this.host.keys.bool('StopTransactionOnEVSideDisconnect')) this.tx.stop(c, 'EVDisconnected', now, undefined, true);
    c.vehicle = undefined;
    c.finishing = false;
    c.vehicleInfoDue = Infinity;
    c.departAt = Infinity;
    if (c.autoPhase !== 'idle') autoIdle(this.autopilot(), c, now);
    return { ok: true };
  }

  /** A tag at the reader: stops the session it started, or asks the central system (offline: the local rule). */
  presentTag(c: Connector, idTag: string, now: number): ActResult {
    if (c.tx) {
      if (c.tx.idTag !== idTag) return { ok: false, message: 'tag does not match the running transaction' };
      this.tx.stop(c, 'Local', now, idTag);
      return { ok: true, message: 'transaction stopped' };
    }
    if (c.fault || c.inoperative || this.statuses.inoperative) return { ok: false, message: `connector is ${c.status}` };
    if (!this.host.linkOpen() || !this.boot.accepted) {
      if (!this.host.keys.bool('AllowOfflineTxForUnknownId')) return { ok: false, message: 'offline and AllowOfflineTxForUnknownId is false' };
      this.authorized(c, idTag, now);
      return { ok: true, message: 'authorized offline' };
    }
    this.outbox.enqueue('Authorize', { idTag }, undefined, (conf) => {
      const status = isRecord(conf?.idTagInfo) ? conf.idTagInfo.status : undefined;
      if (status === 'Accepted') this.authorized(c, idTag, this.env.clock.now());
      this.statuses.refresh(c);
    });
    return { ok: true, message: 'Authorize sent' };
  }

  /** The tag is accepted: start now if the cable is in, or wait ConnectionTimeOut for it. */
  authorized(c: Connector, idTag: string, now: number): void {
    if (c.tx) return;
    if (c.vehicle) this.tx.start(c, idTag, now);
    else c.pendingAuth = { idTag, until: now + this.host.keys.int('ConnectionTimeOut') * 1000 };
    this.statuses.refresh(c);
  }

  #idTag(): string {
    return this.host.spec.idTag ?? DEFAULT_ID_TAG;
  }

  #vehicleDefaults(): Required<Pick<VehicleSpec, 'model' | 'initialSoc' | 'targetSoc'>> {
    const v = this.host.spec.vehicle ?? {};
    return { model: v.model ?? 'Classic', initialSoc: v.initialSoc ?? 40, targetSoc: v.targetSoc ?? 80 };
  }

  #bmsAlert(c: Connector, alertType: BmsAlertType, now: number): ActResult {
    const safe = alertType === 'BMS_CHARGING_ENABLED';
    if (safe === c.bmsSafe) return { ok: false, message: `BMS already ${safe ? 'enabled' : 'disabled'}` };
    c.bmsSafe = safe;
    const data = { alertType, message: BMS_MESSAGES[alertType], timestamp: Math.round(this.boot.uptime(now)) };
    this.outbox.enqueue('DataTransfer', { vendorId: 'RivotMotors', messageId: 'BMSAlert', data: JSON.stringify(data) });
    // The firmware ends a running session when the BMS withdraws permission.
    if (!safe && c.tx) this.tx.stop(c, 'EmergencyStop', now);
    return { ok: true };
  }
}
