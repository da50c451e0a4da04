// A simulated flashCharge charger, modelled on its firmware running MicroOcpp 1.2: power, boot and heartbeat,
// operator actions, plug / tag / BMS inputs, statuses, the RivotMotors vendor messages, and the clock that drives
// them. Its parts live beside it: the connection (uplink.ts), the outgoing calls (outbox.ts), sessions and what
// survives a power loss (transactions.ts), the answers to the central system (central-system-calls.ts), the
// autopilot (autopilot.ts), connectors and the battery (connector.ts, battery.ts), persistence (queue-store.ts).
// Time only advances through the shared timer wheel, so thousands of stations share one timer.
import { encodeCallError, encodeCallResult, parseFrame } from '../ocpp/frames.js';
import { validate } from '../ocpp/validate.js';
import type { Wakeable } from './wheel.js';
import type { PersistedQueue, Persistable, QueuedMessage } from './queue-store.js';
import { KeyStore } from './keys.js';
import { Connector, type ConnectorView } from './connector.js';
import type { ChargerLimits } from './battery.js';
import { DEFAULT_ID_TAG, type BmsAlertType, type SimAction, type SimStationSpec, type VehicleSpec } from './spec.js';
import { Outbox, type OutboxHost } from './outbox.js';
import { Uplink, type UplinkEvents } from './uplink.js';
import { answerCall, type CallHost } from './central-system-calls.js';
import { Transactions, type TransactionsHost } from './transactions.js';
import { armAutopilot, autoIdle, autopilotStep, type AutopilotHost } from './autopilot.js';
import { iso, isRecord, type StationCounters, type StationEnv } from './station-env.js';
import { defectsOf, type Defect, type Defects } from './defects.js';

export { DEFAULT_LIMITS, type SimLimits, type StationCounters, type StationEnv } from './station-env.js';

export interface SimStationInfo {
  readonly id: string;
  readonly transport: 'ws' | 'link';
  readonly powered: boolean;
  readonly online: boolean;
  readonly booted: boolean;
  readonly queued: number;
  readonly connectors: readonly ConnectorView[];
  readonly counters: Readonly<StationCounters>;
  /** Present only on a station given deliberate defects. */
  readonly defects?: readonly Defect[];
}

export interface ActResult {
  readonly ok: boolean;
  readonly message?: string;
}

const VEHICLE_INFO_FIRST_MS = 3000; // the firmware's first-send interval after plug-in
const VEHICLE_INFO_EVERY_MS = 5000;
const PHYSICS_WAKE_MS = 5000; // while energy flows, look at the battery at least this often

const BMS_MESSAGES: Record<BmsAlertType, string> = {
  BMS_EMERGENCY_STOP: 'BMS emergency stop',
  BMS_CHARGING_DISABLED: 'BMS not ready for charging',
  BMS_CHARGING_ENABLED: 'BMS ready for charging',
};

export class SimStation implements Wakeable, Persistable, OutboxHost, TransactionsHost, UplinkEvents {
  wheelSlot = -1;
  readonly id: string;
  readonly keys: KeyStore;
  readonly connectors: Connector[]; // index 0 is the charge point itself
  readonly counters: StationCounters = { framesOut: 0, framesIn: 0, boots: 0, connects: 0, txStarted: 0, txStopped: 0, energyWh: 0, callErrors: 0, timeouts: 0, dropped: 0 };

  #powered = false;
  #removed = false;
  #booted = false;
  #bootedAt = 0;
  #heartbeatDue = Infinity;
  #rebootAt = Infinity;
  #softResetDeadline = Infinity;
  #inoperative = false;
  #configChanged = false;
  readonly chargerLimits: ChargerLimits;
  /** Deliberate firmware defects (spec.defects); undefined for a healthy station. */
  readonly defects: Defects | undefined;
  readonly #uplink: Uplink;
  readonly #outbox: Outbox;
  readonly #tx: Transactions;

  constructor(
    readonly spec: SimStationSpec,
    private readonly env: StationEnv,
  ) {
    this.id = spec.id;
    const n = spec.connectors ?? 1;
    this.keys = new KeyStore(spec.config, n);
    const now = env.clock.now();
    this.connectors = Array.from({ length: n + 1 }, (_, i) => new Connector(i, now));
    this.chargerLimits = { maxCurrentA: spec.charger?.maxCurrentA ?? 100, maxPowerW: spec.charger?.maxPowerW ?? 8500 };
    this.defects = defectsOf(spec.defects);
    this.#uplink = new Uplink(env, this.id, () => this.keys.get('AuthorizationKey') || spec.password, this);
    this.#outbox = new Outbox(env, this);
    this.#tx = new Transactions(this, this.#outbox, env);
    this.#restore(env.store.load(this.id));
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------

  /** Power on: boot and connect after the boot delay. */
  powerOn(delayMs = this.env.limits.bootDelayMs): void {
    if (this.#powered || this.#removed) return;
    this.#powered = true;
    this.#startBoot();
    this.#uplink.connectAt(this.env.clock.now() + delayMs);
    armAutopilot(this.#autopilotHost(), this.plugs(), this.env.limits.bootDelayMs, this.env.clock.now());
    this.scheduleWake();
  }

  /** Power off (simulator shutdown): open transactions stay open on "flash" and are closed as PowerLoss on the next boot. */
  powerOff(): void {
    if (!this.#powered) return;
    const now = this.env.clock.now();
    for (const c of this.plugs()) c.advance(now, this.chargerLimits);
    this.#powered = false;
    this.#dropConnection(1001, 'station powered off', false);
    this.env.wheel.cancel(this);
    this.env.store.markDirty(this);
  }

  remove(): void {
    this.powerOff();
    this.#removed = true;
    this.env.store.remove(this.id);
  }

  get online(): boolean {
    return this.#uplink.online;
  }

  get booted(): boolean {
    return this.#booted;
  }

  get queueLength(): number {
    return this.#outbox.length;
  }

  info(): SimStationInfo {
    const now = this.env.clock.now();
    if (this.#powered) for (const c of this.plugs()) c.advance(now, this.chargerLimits);
    return {
      id: this.id,
      transport: this.env.transport.kind,
      powered: this.#powered,
      online: this.#uplink.online,
      booted: this.#booted,
      queued: this.#outbox.length,
      connectors: this.plugs().map((c) => c.view()),
      counters: { ...this.counters },
      ...(this.defects ? { defects: [...this.defects] } : {}),
    };
  }

  // ---- operator actions ------------------------------------------------------------------------------------

  act(action: SimAction): ActResult {
    if (!this.#powered && action.type !== 'reboot') return { ok: false, message: 'station is powered off' };
    const now = this.env.clock.now();
    if (action.type === 'dropLink') {
      if (!this.#uplink.connected) return { ok: false, message: 'no link to drop' };
      this.#dropConnection(1006, 'link pulled', true);
      return { ok: true };
    }
    if (action.type === 'reboot') {
      if (!this.#powered) {
        this.powerOn();
        return { ok: true };
      }
      for (const c of this.plugs()) if (c.tx) this.#tx.stop(c, 'PowerLoss', now);
      this.#reboot(now);
      return { ok: true };
    }
    const c = this.connectors[action.connectorId ?? 1];
    if (!c || c.id === 0) return { ok: false, message: `no connector ${action.connectorId ?? 1}` };
    c.advance(now, this.chargerLimits);
    let result: ActResult = { ok: true };
    switch (action.type) {
      case 'plugIn':
        result = this.#plugIn(c, action.vehicle ?? {}, now);
        break;
      case 'plugOut':
        result = this.#plugOut(c, now);
        break;
      case 'presentTag':
        result = this.#presentTag(c, action.idTag ?? this.#idTag(), now);
        break;
      case 'start':
        if (c.tx) return { ok: false, message: 'a transaction is already running' };
        if (!c.vehicle) this.#plugIn(c, action.vehicle ?? {}, now);
        result = this.#presentTag(c, action.idTag ?? this.#idTag(), now);
        break;
      case 'stop':
        if (!c.tx) return { ok: false, message: 'no transaction' };
        this.#tx.stop(c, 'Local', now, c.tx.idTag);
        break;
      case 'fault':
        c.fault = { errorCode: action.errorCode ?? 'OtherError', info: action.info };
        if (c.tx) this.#tx.stop(c, 'Other', now);
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
    this.refresh(c);
    this.#outbox.pump();
    this.scheduleWake();
    return result;
  }

  /** Built when the autopilot acts (rarely), not kept per station. */
  #autopilotHost(): AutopilotHost {
    return {
      spec: this.spec,
      random: this.env.random,
      plugIn: (c, vehicle, now) => void this.#plugIn(c, vehicle, now),
      presentTag: (c, now) => this.#presentTag(c, this.#idTag(), now).ok,
    };
  }

  #idTag(): string {
    return this.spec.idTag ?? DEFAULT_ID_TAG;
  }

  #vehicleDefaults(): Required<Pick<VehicleSpec, 'model' | 'initialSoc' | 'targetSoc'>> {
    const v = this.spec.vehicle ?? {};
    return { model: v.model ?? 'Classic', initialSoc: v.initialSoc ?? 40, targetSoc: v.targetSoc ?? 80 };
  }

  #plugIn(c: Connector, vehicle: VehicleSpec, now: number): ActResult {
    if (c.vehicle) return { ok: false, message: 'already plugged in' };
    c.plug({ ...this.spec.vehicle, ...vehicle }, this.#vehicleDefaults(), now);
    c.finishing = false;
    c.vehicleInfoDue = now + VEHICLE_INFO_FIRST_MS;
    if (c.pendingAuth) {
      const { idTag } = c.pendingAuth;
      c.pendingAuth = undefined;
      this.#tx.start(c, idTag, now);
    }
    return { ok: true };
  }

  #plugOut(c: Connector, now: number): ActResult {
    if (!c.vehicle) return { ok: false, message: 'nothing plugged in' };
    if (c.tx && this.keys.bool('StopTransactionOnEVSideDisconnect')) this.#tx.stop(c, 'EVDisconnected', now, undefined, true);
    c.vehicle = undefined;
    c.finishing = false;
    c.vehicleInfoDue = Infinity;
    c.departAt = Infinity;
    if (c.autoPhase !== 'idle') autoIdle(this.#autopilotHost(), c, now);
    return { ok: true };
  }

  #presentTag(c: Connector, idTag: string, now: number): ActResult {
    if (c.tx) {
      if (c.tx.idTag !== idTag) return { ok: false, message: 'tag does not match the running transaction' };
      this.#tx.stop(c, 'Local', now, idTag);
      return { ok: true, message: 'transaction stopped' };
    }
    if (c.fault || c.inoperative || this.#inoperative) return { ok: false, message: `connector is ${c.status}` };
    if (!this.#uplink.online || !this.#booted) {
      if (!this.keys.bool('AllowOfflineTxForUnknownId')) return { ok: false, message: 'offline and AllowOfflineTxForUnknownId is false' };
      this.#authorized(c, idTag, now);
      return { ok: true, message: 'authorized offline' };
    }
    this.#outbox.enqueue('Authorize', { idTag }, undefined, (conf) => {
      const status = isRecord(conf?.idTagInfo) ? conf.idTagInfo.status : undefined;
      if (status === 'Accepted') this.#authorized(c, idTag, this.env.clock.now());
      this.refresh(c);
    });
    return { ok: true, message: 'Authorize sent' };
  }

  #authorized(c: Connector, idTag: string, now: number): void {
    if (c.tx) return;
    if (c.vehicle) this.#tx.start(c, idTag, now);
    else c.pendingAuth = { idTag, until: now + this.keys.int('ConnectionTimeOut') * 1000 };
    this.refresh(c);
  }

  #bmsAlert(c: Connector, alertType: BmsAlertType, now: number): ActResult {
    const safe = alertType === 'BMS_CHARGING_ENABLED';
    if (safe === c.bmsSafe) return { ok: false, message: `BMS already ${safe ? 'enabled' : 'disabled'}` };
    c.bmsSafe = safe;
    const data = { alertType, message: BMS_MESSAGES[alertType], timestamp: Math.round(now - this.#bootedAt) };
    this.#outbox.enqueue('DataTransfer', { vendorId: 'RivotMotors', messageId: 'BMSAlert', data: JSON.stringify(data) });
    // The firmware ends a running session when the BMS withdraws permission.
    if (!safe && c.tx) this.#tx.stop(c, 'EmergencyStop', now);
    return { ok: true };
  }

  // ---- status ----------------------------------------------------------------------------------------------

  /** Re-derives a connector's status and reports a change (MicroOcpp sends StatusNotification on every change). */
  refresh(c: Connector): void {
    this.#derive(c);
    this.#reportStatus(c, false);
  }

  #derive(c: Connector): void {
    c.status = c.id === 0 ? (this.#inoperative ? 'Unavailable' : 'Available') : c.derive(this.#inoperative);
    c.errorCode = c.fault?.errorCode ?? 'NoError';
    c.info = c.fault?.info;
  }

  #reportStatus(c: Connector, force: boolean): void {
    const key = `${c.status}/${c.errorCode}`;
    if (!this.#uplink.online || !this.#booted) return;
    if (!force && key === c.enqueued) return;
    c.enqueued = key;
    if (c.status === 'Charging' && this.defects?.has('skipsChargingStatus')) {
      c.confirmed = key;
      return;
    }
    const payload: Record<string, unknown> = { connectorId: c.id, errorCode: c.errorCode, status: c.status, timestamp: iso(this.env.clock.now()) };
    if (c.info !== undefined) payload.info = c.info;
    this.#outbox.enqueue('StatusNotification', payload, undefined, (conf) => {
      if (conf) c.confirmed = key;
    });
  }

  // ---- for its parts (uplink, outbox, transactions): the station is their host, so they cost no closures ------

  linkOpen(): boolean {
    return this.#uplink.online;
  }

  bootAccepted(): boolean {
    return this.#booted;
  }

  linkFailed(): void {
    this.#dropConnection(1006, 'send failed', false);
  }

  linkLost(code: number, reason: string): void {
    this.#dropConnection(code, reason, false);
  }

  transactionId(localTx: number): number | undefined {
    return this.#tx.idOf(localTx);
  }

  txConfirmed(m: QueuedMessage, conf: Record<string, unknown>): void {
    this.#tx.confirmed(m, conf);
  }

  outboxDrained(now: number): void {
    if (this.#softResetDeadline < Infinity) this.#rebootAt = Math.min(this.#rebootAt, now + 500);
  }

  // ---- to and from the central system ------------------------------------------------------------------------

  sendFrame(text: string): boolean {
    const ok = this.#uplink.send(text);
    if (ok) this.counters.framesOut++;
    return ok;
  }

  // ---- connection ------------------------------------------------------------------------------------------

  /** The link is gone (either side): forget volatile messages, keep transaction messages, reconnect later. */
  #dropConnection(code: number, reason: string, abrupt: boolean): void {
    this.#uplink.drop(code, reason, abrupt, this.#powered && this.#rebootAt === Infinity);
    this.#outbox.linkLost();
    for (const c of this.connectors) c.enqueued = c.confirmed;
    this.scheduleWake();
  }

  linkOpened(): void {
    this.counters.connects++;
    if (this.defects?.has('forgetsOfflineQueue')) this.#outbox.forgetQueuedOffline();
    if (!this.#booted) this.#sendBoot();
    else for (const c of this.connectors) if (c.confirmed !== `${c.status}/${c.errorCode}`) this.#reportStatus(c, true);
    this.#outbox.pump();
    this.scheduleWake();
  }

  #startBoot(): void {
    this.#booted = false;
    this.#outbox.newBoot();
    this.#heartbeatDue = Infinity;
    this.#bootedAt = this.env.clock.now();
    for (const c of this.connectors) {
      c.confirmed = undefined;
      c.enqueued = undefined;
    }
  }

  #bootPayload(): Record<string, unknown> {
    const s = this.spec;
    return {
      chargePointVendor: s.vendor ?? 'Rivot Motors',
      chargePointModel: s.model ?? 'Rivot Charger',
      chargePointSerialNumber: s.serialNumber ?? s.id.slice(0, 25),
      firmwareVersion: s.firmwareVersion ?? '2.4.0',
    };
  }

  #sendBoot(notBefore = 0): void {
    this.#outbox.bootFirst(this.#bootPayload(), (conf) => this.#onBootConf(conf), notBefore);
  }

  #onBootConf(conf: Record<string, unknown> | undefined): void {
    const now = this.env.clock.now();
    const interval = typeof conf?.interval === 'number' && conf.interval > 0 ? conf.interval : 0;
    if (conf?.status === 'Accepted') {
      this.#booted = true;
      this.counters.boots++;
      if (interval > 0) this.#takeHeartbeatInterval(interval);
      this.#armHeartbeat(now);
      // StatusNotifications for connector 0 and each connector go right after the boot, before any replay.
      this.#outbox.ahead(() => {
        for (const c of this.connectors) {
          this.#derive(c);
          this.#reportStatus(c, true);
        }
      });
      for (const c of this.plugs()) if (c.vehicle && !c.tx) c.vehicleInfoDue = Math.min(c.vehicleInfoDue, now + VEHICLE_INFO_FIRST_MS);
      return;
    }
    // Pending / Rejected / no answer: try again after the interval the central system asked for (or a minute).
    if (this.#uplink.online) this.#sendBoot(now + (interval > 0 ? interval : 60) * 1000);
  }

  /** The interval a BootNotification.conf hands out becomes HeartbeatInterval (unless the firmware ignores it). */
  #takeHeartbeatInterval(seconds: number): void {
    if (!this.defects?.has('ignoresHeartbeatInterval')) this.keys.internalSet('HeartbeatInterval', String(seconds));
  }

  #armHeartbeat(now: number): void {
    const hb = this.keys.int('HeartbeatInterval');
    this.#heartbeatDue = hb > 0 ? now + hb * 1000 : Infinity;
  }

  /** Reset / power cycle: drop the link, forget volatile state, boot again after the boot delay. */
  #reboot(now: number): void {
    this.#softResetDeadline = Infinity;
    this.#rebootAt = Infinity;
    this.#dropConnection(1006, 'rebooting', true);
    if (this.defects?.has('doesNotPersistConfiguration')) this.keys.revert(this.spec.config);
    this.#startBoot();
    for (const c of this.plugs()) {
      c.pendingAuth = undefined;
      c.finishing = false;
      c.vehicleInfoDue = Infinity;
      this.refresh(c);
    }
    this.#uplink.resetBackoff();
    this.#uplink.connectAt(now + this.env.limits.bootDelayMs);
    this.env.logger.info({ station: this.id }, 'sim: rebooting');
    this.scheduleWake();
  }

  // ---- incoming ------------------------------------------------------------------------------------------------

  linkMessage(text: string): void {
    this.counters.framesIn++;
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      const { messageId, isCall } = parsed.problem;
      if (isCall && messageId !== undefined) this.sendFrame(encodeCallError(messageId, 'FormationViolation', parsed.problem.message));
      return;
    }
    const f = parsed.frame;
    if (f.type === 2) {
      this.#onCall(f.id, f.action, f.payload as Record<string, unknown>);
      return;
    }
    this.#outbox.answered(f.id, f.type === 3 ? (f.payload as Record<string, unknown>) : 'error');
  }

  #onCall(id: string, action: string, payload: Record<string, unknown>): void {
    const violation = validate(action, 'req', payload);
    if (violation) {
      this.sendFrame(encodeCallError(id, violation.code, violation.message));
      return;
    }
    const now = this.env.clock.now();
    for (const c of this.plugs()) c.advance(now, this.chargerLimits);
    const answer = answerCall(this.#callHost(), action, payload, now);
    if (answer.kind === 'notSupported') {
      this.sendFrame(encodeCallError(id, 'NotSupported', `${action} is not supported by this charge point`));
      return;
    }
    this.sendFrame(encodeCallResult(id, answer.result));
    answer.after?.();
    this.#outbox.pump();
    this.scheduleWake();
  }

  /** What the central system's calls may touch; built per call (calls are rare, stations many). */
  #callHost(): CallHost {
    return {
      connectors: this.connectors,
      keys: this.keys,
      defects: this.defects,
      stationInoperative: () => this.#inoperative,
      setStationInoperative: (inoperative) => {
        this.#inoperative = inoperative;
      },
      presentTag: (c, idTag, now) => void this.#presentTag(c, idTag, now),
      authorized: (c, idTag, now) => this.#authorized(c, idTag, now),
      stopTx: (c, reason, now) => this.#tx.stop(c, reason, now),
      scheduleReset: (hard, now) => {
        // Soft: let the stop messages out first (bounded); hard: reboot at once, they are replayed after boot.
        if (hard) this.#rebootAt = now + 500;
        else {
          this.#softResetDeadline = now + 10_000;
          this.#rebootAt = this.#outbox.holdsTransactionMessages ? this.#softResetDeadline : now + 500;
        }
      },
      configChanged: (key, now) => this.#onConfigChanged(key, now),
      refreshAll: () => {
        for (const c of this.connectors) this.refresh(c);
      },
      enqueue: (action, payload, onResult) => this.#outbox.enqueue(action, payload, undefined, onResult),
      bootPayload: () => this.#bootPayload(),
      heartbeatInterval: (seconds) => {
        this.#takeHeartbeatInterval(seconds);
        this.#armHeartbeat(this.env.clock.now());
      },
      reportStatus: (c) => this.#reportStatus(c, true),
      sendMeterValues: (c, now) => this.#tx.sampleMeter(c, now, 'Trigger'),
    };
  }

  #onConfigChanged(key: string, now: number): void {
    if (!this.defects?.has('doesNotPersistConfiguration')) {
      this.#configChanged = true;
      this.env.store.markDirty(this);
    }
    if (key === 'HeartbeatInterval') this.#armHeartbeat(now);
    if (key === 'AuthorizationKey') this.#dropConnection(1000, 'reconnecting with the new AuthorizationKey', false); // as MicroOcpp does
    if (key === 'MeterValueSampleInterval') {
      const interval = this.keys.int('MeterValueSampleInterval');
      for (const c of this.plugs()) if (c.tx) c.meterDue = interval > 0 ? now + interval * 1000 : Infinity;
    }
  }

  // ---- the clock -------------------------------------------------------------------------------------------

  wake(now: number): void {
    try {
      this.#wake(now);
    } catch (err) {
      this.env.logger.error({ station: this.id, err }, 'sim: station step failed');
      this.scheduleWake();
    }
  }

  #wake(now: number): void {
    if (!this.#powered) return;
    if (this.#rebootAt <= now) {
      this.#reboot(now);
      return;
    }
    this.#uplink.connectIfDue(now);
    this.#outbox.expire(now);
    if (this.#uplink.online && this.#booted && this.#heartbeatDue <= now) {
      this.#outbox.enqueue('Heartbeat', {});
      this.#armHeartbeat(now);
    }
    for (const c of this.plugs()) this.#wakeConnector(c, now);
    this.#outbox.pump();
    this.scheduleWake();
  }

  #wakeConnector(c: Connector, now: number): void {
    c.advance(now, this.chargerLimits);
    if (c.tx && c.meterDue <= now) {
      this.#tx.sampleMeter(c, now, 'Sample.Periodic');
      const interval = this.keys.int('MeterValueSampleInterval') * 1000;
      c.meterDue = interval > 0 ? Math.max(c.meterDue + interval, now + 1) : Infinity;
    }
    if (c.vehicle && !c.tx && c.vehicleInfoDue <= now) {
      const b = c.vehicle.battery;
      if (this.#uplink.online && this.#booted && c.bmsSafe && b.soc > 0) {
        const messageId = this.spec.vehicleInfoMessageId ?? 'VehicleInfo';
        this.#outbox.enqueue('DataTransfer', { vendorId: 'RivotMotors', messageId, data: JSON.stringify(c.vehicleSnapshot(messageId)) });
      }
      c.vehicleInfoDue = now + VEHICLE_INFO_EVERY_MS;
    }
    if (c.pendingAuth && c.pendingAuth.until <= now) c.pendingAuth = undefined;
    const v = c.vehicle;
    if (v?.battery.full && v.departAfterTargetS !== undefined && c.departAt === Infinity) c.departAt = now + v.departAfterTargetS * 1000;
    if (c.departAt <= now) {
      c.departAt = Infinity;
      this.#plugOut(c, now);
    }
    if (c.autoAt <= now) autopilotStep(this.#autopilotHost(), c, now);
    this.refresh(c);
  }

  scheduleWake(): void {
    if (!this.#powered) return;
    const now = this.env.clock.now();
    let next = Math.min(this.#uplink.reconnectAt, this.#rebootAt, this.#outbox.nextWake(now));
    if (this.#uplink.online && this.#booted) next = Math.min(next, this.#heartbeatDue);
    for (const c of this.plugs()) {
      next = Math.min(next, c.meterDue, c.vehicleInfoDue, c.departAt, c.autoAt, c.pendingAuth?.until ?? Infinity, c.reservation?.expiresAt ?? Infinity);
      if (c.gateOpen() && c.vehicle && !c.vehicle.battery.full) next = Math.min(next, now + PHYSICS_WAKE_MS);
    }
    this.env.wheel.schedule(this, next);
  }

  plugs(): Connector[] {
    return this.connectors.slice(1);
  }

  // ---- persistence -------------------------------------------------------------------------------------------

  snapshot(): PersistedQueue | undefined {
    const messages = this.#outbox.persisted();
    const tx = this.#tx.saved(messages);
    if (messages.length === 0 && tx.open.length === 0 && !this.#configChanged) return undefined;
    return { v: 1, ...tx, messages, ...(this.#configChanged ? { config: this.keys.overrides() } : {}) };
  }

  #restore(saved: PersistedQueue | undefined): void {
    if (!saved) return;
    if (saved.config) {
      for (const [k, v] of Object.entries(saved.config)) this.keys.change(k, v);
      this.#configChanged = true;
    }
    this.#outbox.restore(saved.messages);
    this.#tx.restore(saved, this.env.clock.now());
  }
}
