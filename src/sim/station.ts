// A simulated flashCharge charger, modelled on its firmware running MicroOcpp 1.2: boot, statuses, Authorize,
// Start/Stop, periodic MeterValues, the RivotMotors DataTransfers, Heartbeat; answers the central system's
// calls; keeps transaction messages in a bounded, persisted queue while offline and replays them in order;
// reconnects with exponential backoff and jitter; one outgoing call in flight, each with a timeout.
// Time only advances through the shared timer wheel, so thousands of stations share one timer.
import type { Logger } from 'pino';
import { encodeCall, encodeCallError, encodeCallResult, parseFrame } from '../ocpp/frames.js';
import { validate } from '../ocpp/validate.js';
import type { Clock } from './clock.js';
import type { TimerWheel, Wakeable } from './wheel.js';
import type { SimConnection, SimTransport } from './transport.js';
import type { OpenTransaction, PersistedQueue, QueueStore, QueuedMessage, Persistable } from './queue-store.js';
import { KeyStore } from './keys.js';
import { Connector, type ConnectorView } from './connector.js';
import { VEHICLE_MODELS, type ChargerLimits, type VehicleModel } from './battery.js';
import type { AutopilotSpec, BmsAlertType, SimAction, SimStationSpec, VehicleSpec } from './spec.js';

export interface SimLimits {
  /** Most transaction messages a station keeps while offline. */
  readonly queueLimit: number;
  readonly callTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** Time from power-on (or reboot) to the first connection attempt. */
  readonly bootDelayMs: number;
}

export const DEFAULT_LIMITS: SimLimits = { queueLimit: 1000, callTimeoutMs: 30_000, reconnectMinMs: 1000, reconnectMaxMs: 60_000, bootDelayMs: 2000 };

/** What all stations of one simulator share. */
export interface StationEnv {
  readonly clock: Clock;
  readonly wheel: TimerWheel;
  readonly transport: SimTransport;
  readonly store: QueueStore;
  readonly logger: Logger;
  readonly limits: SimLimits;
  readonly random: () => number;
}

export interface StationCounters {
  framesOut: number;
  framesIn: number;
  boots: number;
  connects: number;
  txStarted: number;
  txStopped: number;
  energyWh: number;
  callErrors: number;
  timeouts: number;
  dropped: number;
}

export interface SimStationInfo {
  readonly id: string;
  readonly transport: 'ws' | 'link';
  readonly powered: boolean;
  readonly online: boolean;
  readonly booted: boolean;
  readonly queued: number;
  readonly connectors: readonly ConnectorView[];
  readonly counters: Readonly<StationCounters>;
}

export interface ActResult {
  readonly ok: boolean;
  readonly message?: string;
}

interface OutEntry {
  readonly action: string;
  readonly payload: Record<string, unknown>;
  /** Set for transaction messages: persisted, retried, replayed after offline periods. */
  readonly persisted: QueuedMessage | undefined;
  notBefore: number;
  readonly onResult?: (payload: Record<string, unknown> | undefined) => void;
}

const VEHICLE_INFO_FIRST_MS = 3000; // the firmware's first-send interval after plug-in
const VEHICLE_INFO_EVERY_MS = 5000;
const PHYSICS_WAKE_MS = 5000; // while energy flows, look at the battery at least this often
const NON_TX_PREBOOT_LIMIT = 10; // MicroOcpp's memory-only queue before BootNotification is accepted

const BMS_MESSAGES: Record<BmsAlertType, string> = {
  BMS_EMERGENCY_STOP: 'BMS emergency stop',
  BMS_CHARGING_DISABLED: 'BMS not ready for charging',
  BMS_CHARGING_ENABLED: 'BMS ready for charging',
};

const iso = (ms: number): string => new Date(ms).toISOString();
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class SimStation implements Wakeable, Persistable {
  wheelSlot = -1;
  readonly id: string;
  readonly keys: KeyStore;
  readonly connectors: Connector[]; // index 0 is the charge point itself
  readonly counters: StationCounters = { framesOut: 0, framesIn: 0, boots: 0, connects: 0, txStarted: 0, txStopped: 0, energyWh: 0, callErrors: 0, timeouts: 0, dropped: 0 };

  #powered = false;
  #removed = false;
  #conn: SimConnection | undefined;
  #online = false;
  #booted = false;
  #bootedAt = 0;
  #bootTag = '';
  #msgSeq = 0;
  #backoff = 0;
  #reconnectAt = Infinity;
  #heartbeatDue = Infinity;
  #rebootAt = Infinity;
  #softResetDeadline = Infinity;
  #inoperative = false;
  #queue: OutEntry[] = [];
  #inFlight: { id: string; entry: OutEntry; deadline: number } | undefined;
  #txCounter = 0;
  #txIds = new Map<number, number>();
  #configChanged = false;
  readonly #limits: ChargerLimits;

  constructor(
    readonly spec: SimStationSpec,
    private readonly env: StationEnv,
  ) {
    this.id = spec.id;
    const n = spec.connectors ?? 1;
    this.keys = new KeyStore(spec.config, n);
    const now = env.clock.now();
    this.connectors = Array.from({ length: n + 1 }, (_, i) => new Connector(i, now));
    this.#limits = { maxCurrentA: spec.charger?.maxCurrentA ?? 100, maxPowerW: spec.charger?.maxPowerW ?? 8500 };
    this.#restore(env.store.load(this.id));
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------

  /** Power on: boot and connect after the boot delay. */
  powerOn(delayMs = this.env.limits.bootDelayMs): void {
    if (this.#powered || this.#removed) return;
    this.#powered = true;
    this.#startBoot();
    this.#reconnectAt = this.env.clock.now() + delayMs;
    this.#armAutopilot();
    this.#schedule();
  }

  /** Power off (simulator shutdown): open transactions stay open on "flash" and are closed as PowerLoss on the next boot. */
  powerOff(): void {
    if (!this.#powered) return;
    const now = this.env.clock.now();
    for (const c of this.#plugs()) c.advance(now, this.#limits);
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
    return this.#online;
  }

  get booted(): boolean {
    return this.#booted;
  }

  get queueLength(): number {
    return this.#queue.length;
  }

  info(): SimStationInfo {
    const now = this.env.clock.now();
    if (this.#powered) for (const c of this.#plugs()) c.advance(now, this.#limits);
    return {
      id: this.id,
      transport: this.env.transport.kind,
      powered: this.#powered,
      online: this.#online,
      booted: this.#booted,
      queued: this.#queue.length,
      connectors: this.#plugs().map((c) => c.view()),
      counters: { ...this.counters },
    };
  }

  // ---- operator actions ------------------------------------------------------------------------------------

  act(action: SimAction): ActResult {
    if (!this.#powered && action.type !== 'reboot') return { ok: false, message: 'station is powered off' };
    const now = this.env.clock.now();
    if (action.type === 'dropLink') {
      if (!this.#conn) return { ok: false, message: 'no link to drop' };
      this.#dropConnection(1006, 'link pulled', true);
      return { ok: true };
    }
    if (action.type === 'reboot') {
      if (!this.#powered) {
        this.powerOn();
        return { ok: true };
      }
      for (const c of this.#plugs()) if (c.tx) this.#stopTx(c, 'PowerLoss', now);
      this.#reboot(now);
      return { ok: true };
    }
    const c = this.connectors[action.connectorId ?? 1];
    if (!c || c.id === 0) return { ok: false, message: `no connector ${action.connectorId ?? 1}` };
    c.advance(now, this.#limits);
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
        this.#stopTx(c, 'Local', now, c.tx.idTag);
        break;
      case 'fault':
        c.fault = { errorCode: action.errorCode ?? 'OtherError', info: action.info };
        if (c.tx) this.#stopTx(c, 'Other', now);
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
    this.#refresh(c);
    this.#pump();
    this.#schedule();
    return result;
  }

  #idTag(): string {
    return this.spec.idTag ?? 'TEST_TAG';
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
      this.#startTx(c, idTag, now);
    }
    return { ok: true };
  }

  #plugOut(c: Connector, now: number): ActResult {
    if (!c.vehicle) return { ok: false, message: 'nothing plugged in' };
    if (c.tx && this.keys.bool('StopTransactionOnEVSideDisconnect')) this.#stopTx(c, 'EVDisconnected', now, undefined, true);
    c.vehicle = undefined;
    c.finishing = false;
    c.vehicleInfoDue = Infinity;
    c.departAt = Infinity;
    if (c.autoPhase !== 'idle') this.#autoIdle(c, now);
    return { ok: true };
  }

  #presentTag(c: Connector, idTag: string, now: number): ActResult {
    if (c.tx) {
      if (c.tx.idTag !== idTag) return { ok: false, message: 'tag does not match the running transaction' };
      this.#stopTx(c, 'Local', now, idTag);
      return { ok: true, message: 'transaction stopped' };
    }
    if (c.fault || c.inoperative || this.#inoperative) return { ok: false, message: `connector is ${c.status}` };
    if (!this.#online || !this.#booted) {
      if (!this.keys.bool('AllowOfflineTxForUnknownId')) return { ok: false, message: 'offline and AllowOfflineTxForUnknownId is false' };
      this.#authorized(c, idTag, now);
      return { ok: true, message: 'authorized offline' };
    }
    this.#enqueue('Authorize', { idTag }, undefined, (conf) => {
      const status = isRecord(conf?.idTagInfo) ? conf.idTagInfo.status : undefined;
      if (status === 'Accepted') this.#authorized(c, idTag, this.env.clock.now());
      this.#refresh(c);
    });
    return { ok: true, message: 'Authorize sent' };
  }

  #authorized(c: Connector, idTag: string, now: number): void {
    if (c.tx) return;
    if (c.vehicle) this.#startTx(c, idTag, now);
    else c.pendingAuth = { idTag, until: now + this.keys.int('ConnectionTimeOut') * 1000 };
    this.#refresh(c);
  }

  #bmsAlert(c: Connector, alertType: BmsAlertType, now: number): ActResult {
    const safe = alertType === 'BMS_CHARGING_ENABLED';
    if (safe === c.bmsSafe) return { ok: false, message: `BMS already ${safe ? 'enabled' : 'disabled'}` };
    c.bmsSafe = safe;
    const data = { alertType, message: BMS_MESSAGES[alertType], timestamp: Math.round(now - this.#bootedAt) };
    this.#enqueue('DataTransfer', { vendorId: 'RivotMotors', messageId: 'BMSAlert', data: JSON.stringify(data) });
    // The firmware ends a running session when the BMS withdraws permission.
    if (!safe && c.tx) this.#stopTx(c, 'EmergencyStop', now);
    return { ok: true };
  }

  // ---- transactions ----------------------------------------------------------------------------------------

  #startTx(c: Connector, idTag: string, now: number): void {
    if (this.spec.energyRegister !== 'lifetime') c.energyWh = 0;
    const local = ++this.#txCounter;
    c.tx = { local, id: undefined, idTag, startedAt: now, meterStart: c.registerWh() };
    c.finishing = false;
    c.vehicleInfoDue = Infinity;
    c.lastStepAt = now;
    const interval = this.keys.int('MeterValueSampleInterval');
    c.meterDue = interval > 0 ? now + interval * 1000 : Infinity;
    this.counters.txStarted++;
    this.#enqueueTx('start', local, 'StartTransaction', { connectorId: c.id, idTag, meterStart: c.tx.meterStart, timestamp: iso(now) });
    this.#refresh(c);
  }

  /** `unplugged`: the cable left with the session (no Finishing). */
  #stopTx(c: Connector, reason: string, now: number, idTag?: string, unplugged = false): void {
    const tx = c.tx;
    if (!tx) return;
    c.advance(now, this.#limits);
    const meterStop = c.registerWh();
    // No longer open when the stop is written: a restart must not close it a second time as PowerLoss.
    c.tx = undefined;
    this.#enqueueTx('stop', tx.local, 'StopTransaction', {
      ...(idTag !== undefined ? { idTag } : {}),
      meterStop,
      timestamp: iso(now),
      reason,
    });
    const delivered = Math.max(0, c.energyWh - tx.meterStart);
    const summary = {
      finalSoc: Math.round((c.vehicle?.battery.soc ?? 0) * 100) / 100,
      energyDelivered: Math.round(delivered * 100) / 100,
      durationMinutes: Math.round(((now - tx.startedAt) / 60_000) * 100) / 100,
    };
    this.#enqueueTx('summary', tx.local, 'DataTransfer', { vendorId: 'RivotMotors', messageId: 'SessionSummary', data: JSON.stringify(summary) });
    this.counters.txStopped++;
    this.counters.energyWh += delivered;
    c.meterDue = Infinity;
    if (unplugged) c.vehicle = undefined;
    c.finishing = c.vehicle !== undefined;
    if (c.inoperativeScheduled) {
      c.inoperative = true;
      c.inoperativeScheduled = false;
    }
    if (c.vehicle && c.autoPhase !== 'idle') c.departAt = Math.min(c.departAt, now + this.#autopilot().dwellS * 1000);
    this.#refresh(c);
  }

  #sendMeterValues(c: Connector, now: number, context: 'Sample.Periodic' | 'Trigger'): void {
    const sampled = c.sample(this.keys.list('MeterValuesSampledData'), 0).map((s) => ({ ...s, context }));
    if (sampled.length === 0) return;
    const payload = { connectorId: c.id, meterValue: [{ timestamp: iso(now), sampledValue: sampled }] };
    if (c.tx && context === 'Sample.Periodic') {
      this.#enqueueTx('meter', c.tx.local, 'MeterValues', payload);
    } else {
      this.#enqueue('MeterValues', c.tx?.id !== undefined ? { ...payload, transactionId: c.tx.id } : payload);
    }
  }

  // ---- status ----------------------------------------------------------------------------------------------

  /** Re-derives a connector's status and reports a change (MicroOcpp sends StatusNotification on every change). */
  #refresh(c: Connector): void {
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
    if (!this.#online || !this.#booted) return;
    if (!force && key === c.enqueued) return;
    c.enqueued = key;
    const payload: Record<string, unknown> = { connectorId: c.id, errorCode: c.errorCode, status: c.status, timestamp: iso(this.env.clock.now()) };
    if (c.info !== undefined) payload.info = c.info;
    this.#enqueue('StatusNotification', payload, undefined, (conf) => {
      if (conf) c.confirmed = key;
    });
  }

  // ---- outgoing queue: one call in flight ------------------------------------------------------------------

  #enqueue(action: string, payload: Record<string, unknown>, persisted?: QueuedMessage, onResult?: OutEntry['onResult']): void {
    if (!persisted) {
      if (!this.#online) {
        this.counters.dropped++;
        return;
      }
      if (!this.#booted && action !== 'BootNotification' && this.#queue.filter((e) => !e.persisted).length >= NON_TX_PREBOOT_LIMIT) {
        this.counters.dropped++;
        return;
      }
    }
    this.#queue.push({ action, payload, persisted, notBefore: 0, ...(onResult ? { onResult } : {}) });
    if (persisted) {
      this.#bound();
      // Write-ahead, as the firmware keeps transactions on flash: a start or stop is on disk before it is sent.
      if (persisted.kind === 'start' || persisted.kind === 'stop') this.env.store.writeNow(this);
      else this.env.store.markDirty(this);
    }
    this.#pump();
  }

  #enqueueTx(kind: QueuedMessage['kind'], tx: number, action: QueuedMessage['action'], payload: Record<string, unknown>): void {
    this.#enqueue(action, payload, { kind, tx, action, payload, attempts: 0 });
  }

  /** Keeps the persisted part of the queue within the limit: periodic meter values go first, as on MicroOcpp. */
  #bound(): void {
    let persisted = 0;
    for (const e of this.#queue) if (e.persisted) persisted++;
    while (persisted > this.env.limits.queueLimit) {
      const inFlight = this.#inFlight?.entry;
      let victim = this.#queue.findIndex((e) => e !== inFlight && e.persisted?.kind === 'meter');
      if (victim < 0) victim = this.#queue.findIndex((e) => e !== inFlight && e.persisted !== undefined);
      if (victim < 0) return;
      this.#queue.splice(victim, 1);
      this.counters.dropped++;
      persisted--;
    }
  }

  #pump(): void {
    if (!this.#online || this.#inFlight || !this.#conn) return;
    const now = this.env.clock.now();
    while (this.#queue.length > 0) {
      const entry = this.#queue[0]!;
      if (!this.#booted && entry.action !== 'BootNotification') return;
      if (entry.notBefore > now) return;
      let payload = entry.payload;
      const p = entry.persisted;
      if (p && p.kind !== 'start' && p.kind !== 'summary') {
        const transactionId = this.#txIds.get(p.tx);
        if (transactionId === undefined) {
          // Its StartTransaction was given up: nothing can refer to that transaction any more.
          this.#queue.shift();
          this.counters.dropped++;
          this.env.store.markDirty(this);
          continue;
        }
        payload = { ...payload, transactionId };
      }
      const id = `${this.#bootTag}${++this.#msgSeq}`;
      this.#inFlight = { id, entry, deadline: now + this.env.limits.callTimeoutMs };
      if (!this.#send(encodeCall(id, entry.action, payload))) {
        this.#inFlight = undefined;
        this.#dropConnection(1006, 'send failed', false);
      }
      return;
    }
    if (this.#softResetDeadline < Infinity) this.#rebootAt = Math.min(this.#rebootAt, now + 500);
  }

  #send(text: string): boolean {
    const ok = this.#conn?.send(text) ?? false;
    if (ok) this.counters.framesOut++;
    return ok;
  }

  #complete(conf: Record<string, unknown> | undefined, failure: 'error' | 'timeout' | undefined): void {
    const flight = this.#inFlight;
    if (!flight) return;
    this.#inFlight = undefined;
    const { entry } = flight;
    const now = this.env.clock.now();
    if (failure) {
      if (failure === 'timeout') this.counters.timeouts++;
      else this.counters.callErrors++;
      const p = entry.persisted;
      if (p) {
        p.attempts++;
        if (p.attempts < this.keys.int('TransactionMessageAttempts')) {
          entry.notBefore = now + this.keys.int('TransactionMessageRetryInterval') * 1000 * p.attempts;
          this.env.store.markDirty(this);
          this.#pump();
          this.#schedule();
          return;
        }
        this.counters.dropped++;
        this.env.logger.warn({ station: this.id, action: entry.action }, 'sim: transaction message given up');
      }
    }
    if (this.#queue[0] === entry) this.#queue.shift();
    if (entry.persisted) {
      if (!failure) this.#onTxConf(entry.persisted, conf ?? {});
      this.env.store.markDirty(this);
    }
    entry.onResult?.(failure ? undefined : conf);
    this.#pump();
    this.#schedule();
  }

  #onTxConf(m: QueuedMessage, conf: Record<string, unknown>): void {
    if (m.kind === 'start') {
      const transactionId = typeof conf.transactionId === 'number' ? conf.transactionId : undefined;
      const c = this.#plugs().find((x) => x.tx?.local === m.tx);
      if (transactionId === undefined) return;
      this.#txIds.set(m.tx, transactionId);
      if (c?.tx) c.tx.id = transactionId;
      this.env.store.writeNow(this); // the id is on disk before anything refers to it
      const status = isRecord(conf.idTagInfo) ? conf.idTagInfo.status : undefined;
      if (c?.tx && status !== 'Accepted' && this.keys.bool('StopTransactionOnInvalidId')) this.#stopTx(c, 'DeAuthorized', this.env.clock.now());
    } else if (m.kind === 'summary') {
      this.#txIds.delete(m.tx);
    }
  }

  // ---- connection ------------------------------------------------------------------------------------------

  #connect(): void {
    this.#reconnectAt = Infinity;
    const handlers = {
      open: () => {
        if (this.#conn !== conn) return;
        this.#online = true;
        this.#backoff = 0;
        this.counters.connects++;
        if (!this.#booted) this.#sendBoot();
        else for (const c of this.connectors) if (c.confirmed !== `${c.status}/${c.errorCode}`) this.#reportStatus(c, true);
        this.#pump();
        this.#schedule();
      },
      message: (text: string) => {
        if (this.#conn === conn) this.#onMessage(text);
      },
      close: (code: number, reason: string) => {
        if (this.#conn !== conn) return;
        this.env.logger.debug({ station: this.id, code, reason }, 'sim: link closed');
        this.#dropConnection(code, reason, false);
      },
    };
    const password = this.spec.password;
    let conn: SimConnection;
    try {
      conn = this.env.transport.connect(this.id, handlers, password !== undefined ? { password } : {});
    } catch (err) {
      // e.g. an invalid target URL: keep trying with backoff rather than going silent.
      this.env.logger.warn({ station: this.id, err }, 'sim: cannot connect');
      this.#dropConnection(1006, 'connect failed', true);
      return;
    }
    this.#conn = conn;
  }

  /** The link is gone (either side): forget volatile messages, keep transaction messages, reconnect later. */
  #dropConnection(code: number, reason: string, abrupt: boolean): void {
    const conn = this.#conn;
    this.#conn = undefined;
    this.#online = false;
    // 1005/1006/1015 are never sent on the wire; anything else outside the sendable range becomes 1000.
    const sendable = code >= 1000 && code <= 4999 && code !== 1005 && code !== 1006 && code !== 1015 ? code : 1000;
    if (conn) conn.close(sendable, reason, abrupt);
    this.#inFlight = undefined;
    const before = this.#queue.length;
    this.#queue = this.#queue.filter((e) => e.persisted !== undefined);
    this.counters.dropped += before - this.#queue.length;
    for (const c of this.connectors) c.enqueued = c.confirmed;
    if (this.#powered && this.#rebootAt === Infinity) {
      const { reconnectMinMs, reconnectMaxMs } = this.env.limits;
      const base = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** this.#backoff);
      this.#backoff = Math.min(this.#backoff + 1, 20);
      this.#reconnectAt = this.env.clock.now() + base * (0.5 + 0.5 * this.env.random());
    }
    this.#schedule();
  }

  #startBoot(): void {
    this.#booted = false;
    this.#bootTag = `${Math.floor(this.env.random() * 36 ** 4).toString(36)}-`;
    this.#msgSeq = 0;
    this.#heartbeatDue = Infinity;
    this.#bootedAt = this.env.clock.now();
    for (const c of this.connectors) {
      c.confirmed = undefined;
      c.enqueued = undefined;
    }
  }

  #sendBoot(): void {
    this.#queue = this.#queue.filter((e) => e.action !== 'BootNotification');
    const s = this.spec;
    const payload = {
      chargePointVendor: s.vendor ?? 'Rivot Motors',
      chargePointModel: s.model ?? 'Rivot Charger',
      chargePointSerialNumber: s.serialNumber ?? s.id.slice(0, 25),
      firmwareVersion: s.firmwareVersion ?? '2.4.0',
    };
    this.#queue.unshift({
      action: 'BootNotification',
      payload,
      persisted: undefined,
      notBefore: 0,
      onResult: (conf) => this.#onBootConf(conf),
    });
  }

  #onBootConf(conf: Record<string, unknown> | undefined): void {
    const now = this.env.clock.now();
    const interval = typeof conf?.interval === 'number' && conf.interval > 0 ? conf.interval : 0;
    if (conf?.status === 'Accepted') {
      this.#booted = true;
      this.counters.boots++;
      if (interval > 0) this.keys.internalSet('HeartbeatInterval', String(interval));
      this.#armHeartbeat(now);
      // StatusNotifications for connector 0 and each connector go right after the boot, before any replay.
      const replay = this.#queue;
      this.#queue = [];
      for (const c of this.connectors) {
        this.#derive(c);
        this.#reportStatus(c, true);
      }
      this.#queue.push(...replay);
      for (const c of this.#plugs()) if (c.vehicle && !c.tx) c.vehicleInfoDue = Math.min(c.vehicleInfoDue, now + VEHICLE_INFO_FIRST_MS);
      return;
    }
    // Pending / Rejected / no answer: try again after the interval the central system asked for (or a minute).
    if (this.#online) {
      this.#sendBoot();
      this.#queue[0]!.notBefore = now + (interval > 0 ? interval : 60) * 1000;
    }
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
    this.#startBoot();
    for (const c of this.#plugs()) {
      c.pendingAuth = undefined;
      c.finishing = false;
      c.vehicleInfoDue = Infinity;
      this.#refresh(c);
    }
    this.#backoff = 0;
    this.#reconnectAt = now + this.env.limits.bootDelayMs;
    this.env.logger.info({ station: this.id }, 'sim: rebooting');
    this.#schedule();
  }

  // ---- incoming ------------------------------------------------------------------------------------------------

  #onMessage(text: string): void {
    this.counters.framesIn++;
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      const { messageId, isCall } = parsed.problem;
      if (isCall && messageId !== undefined) this.#send(encodeCallError(messageId, 'FormationViolation', parsed.problem.message));
      return;
    }
    const f = parsed.frame;
    if (f.type === 2) {
      this.#onCall(f.id, f.action, f.payload as Record<string, unknown>);
      return;
    }
    if (this.#inFlight?.id !== f.id) return; // a late answer to a call already given up
    if (f.type === 3) this.#complete(f.payload as Record<string, unknown>, undefined);
    else this.#complete(undefined, 'error');
  }

  #onCall(id: string, action: string, payload: Record<string, unknown>): void {
    const violation = validate(action, 'req', payload);
    if (violation) {
      this.#send(encodeCallError(id, violation.code, violation.message));
      return;
    }
    const now = this.env.clock.now();
    for (const c of this.#plugs()) c.advance(now, this.#limits);
    let after: (() => void) | undefined;
    let result: Record<string, unknown>;
    switch (action) {
      case 'RemoteStartTransaction': {
        const c = this.#remoteStartConnector(payload.connectorId as number | undefined);
        const idTag = payload.idTag as string;
        result = { status: c ? 'Accepted' : 'Rejected' };
        if (c) {
          after = () => {
            if (this.keys.bool('AuthorizeRemoteTxRequests')) this.#presentTag(c, idTag, now);
            else this.#authorized(c, idTag, now);
          };
        }
        break;
      }
      case 'RemoteStopTransaction': {
        const c = this.#plugs().find((x) => x.tx?.id === payload.transactionId);
        result = { status: c ? 'Accepted' : 'Rejected' };
        if (c) after = () => this.#stopTx(c, 'Remote', now);
        break;
      }
      case 'Reset': {
        const hard = payload.type === 'Hard';
        result = { status: 'Accepted' };
        after = () => {
          for (const c of this.#plugs()) if (c.tx) this.#stopTx(c, hard ? 'HardReset' : 'SoftReset', now);
          // Soft: let the stop messages out first (bounded); hard: reboot at once, they are replayed after boot.
          if (hard) this.#rebootAt = now + 500;
          else {
            this.#softResetDeadline = now + 10_000;
            this.#rebootAt = this.#queue.some((e) => e.persisted) ? this.#softResetDeadline : now + 500;
          }
        };
        break;
      }
      case 'ChangeConfiguration': {
        const key = payload.key as string;
        const status = this.keys.change(key, payload.value as string);
        result = { status };
        if (status === 'Accepted') {
          this.#configChanged = true;
          this.env.store.markDirty(this);
          after = () => this.#onConfigChanged(key, now);
        }
        break;
      }
      case 'GetConfiguration': {
        const { known, unknown } = this.keys.read(payload.key as string[] | undefined);
        result = { configurationKey: known, ...(unknown.length > 0 ? { unknownKey: unknown } : {}) };
        break;
      }
      case 'TriggerMessage': {
        const connectorId = payload.connectorId as number | undefined;
        const requested = payload.requestedMessage as string;
        if (connectorId !== undefined && !this.connectors[connectorId]) result = { status: 'Rejected' };
        else {
          result = { status: 'Accepted' };
          after = () => this.#trigger(requested, connectorId, now);
        }
        break;
      }
      case 'ChangeAvailability':
        result = { status: this.#changeAvailability(payload.connectorId as number, payload.type === 'Operative') };
        break;
      case 'UnlockConnector': {
        const c = this.connectors[payload.connectorId as number];
        if (!c || c.id === 0) result = { status: 'NotSupported' };
        else {
          result = { status: 'Unlocked' };
          if (c.tx) after = () => this.#stopTx(c, 'UnlockCommand', now);
        }
        break;
      }
      case 'ClearCache':
        result = { status: 'Accepted' };
        break;
      case 'DataTransfer':
        // MicroOcpp answers Rejected unless the firmware registered a handler; flashCharge registers none.
        result = { status: 'Rejected' };
        break;
      default:
        this.#send(encodeCallError(id, 'NotSupported', `${action} is not supported by this charge point`));
        return;
    }
    this.#send(encodeCallResult(id, result));
    after?.();
    this.#pump();
    this.#schedule();
  }

  #remoteStartConnector(connectorId: number | undefined): Connector | undefined {
    const usable = (c: Connector | undefined): c is Connector =>
      c !== undefined && c.id > 0 && !c.tx && !c.pendingAuth && !c.fault && !c.inoperative && !this.#inoperative;
    if (connectorId !== undefined) {
      const c = this.connectors[connectorId];
      return usable(c) ? c : undefined;
    }
    const free = this.#plugs().filter(usable);
    return free.find((c) => c.vehicle) ?? free[0];
  }

  #onConfigChanged(key: string, now: number): void {
    if (key === 'HeartbeatInterval') this.#armHeartbeat(now);
    if (key === 'MeterValueSampleInterval') {
      const interval = this.keys.int('MeterValueSampleInterval');
      for (const c of this.#plugs()) if (c.tx) c.meterDue = interval > 0 ? now + interval * 1000 : Infinity;
    }
  }

  #trigger(requested: string, connectorId: number | undefined, now: number): void {
    switch (requested) {
      case 'BootNotification': {
        const s = this.spec;
        this.#enqueue('BootNotification', {
          chargePointVendor: s.vendor ?? 'Rivot Motors',
          chargePointModel: s.model ?? 'Rivot Charger',
          chargePointSerialNumber: s.serialNumber ?? s.id.slice(0, 25),
          firmwareVersion: s.firmwareVersion ?? '2.4.0',
        }, undefined, (conf) => {
          if (conf?.status === 'Accepted' && typeof conf.interval === 'number' && conf.interval > 0) {
            this.keys.internalSet('HeartbeatInterval', String(conf.interval));
            this.#armHeartbeat(this.env.clock.now());
          }
        });
        break;
      }
      case 'Heartbeat':
        this.#enqueue('Heartbeat', {});
        break;
      case 'StatusNotification':
        for (const c of connectorId !== undefined ? [this.connectors[connectorId]!] : this.connectors) this.#reportStatus(c, true);
        break;
      case 'MeterValues':
        for (const c of connectorId ? [this.connectors[connectorId]!] : this.#plugs()) if (c.id > 0) this.#sendMeterValues(c, now, 'Trigger');
        break;
      case 'DiagnosticsStatusNotification':
        this.#enqueue('DiagnosticsStatusNotification', { status: 'Idle' });
        break;
      case 'FirmwareStatusNotification':
        this.#enqueue('FirmwareStatusNotification', { status: 'Idle' });
        break;
    }
  }

  #changeAvailability(connectorId: number, operative: boolean): 'Accepted' | 'Rejected' | 'Scheduled' {
    const target = this.connectors[connectorId];
    if (!target) return 'Rejected';
    const affected = connectorId === 0 ? this.#plugs() : [target];
    let scheduled = false;
    if (connectorId === 0) this.#inoperative = !operative;
    for (const c of affected) {
      if (!operative && c.tx) {
        c.inoperativeScheduled = connectorId !== 0;
        scheduled = true;
      } else if (connectorId !== 0) {
        c.inoperative = !operative;
        c.inoperativeScheduled = false;
      }
    }
    for (const c of this.connectors) this.#refresh(c);
    return scheduled ? 'Scheduled' : 'Accepted';
  }

  // ---- the clock -------------------------------------------------------------------------------------------

  wake(now: number): void {
    try {
      this.#wake(now);
    } catch (err) {
      this.env.logger.error({ station: this.id, err }, 'sim: station step failed');
      this.#schedule();
    }
  }

  #wake(now: number): void {
    if (!this.#powered) return;
    if (this.#rebootAt <= now) {
      this.#reboot(now);
      return;
    }
    if (!this.#conn && this.#reconnectAt <= now) this.#connect();
    if (this.#inFlight && this.#inFlight.deadline <= now) this.#complete(undefined, 'timeout');
    if (this.#online && this.#booted && this.#heartbeatDue <= now) {
      this.#enqueue('Heartbeat', {});
      this.#armHeartbeat(now);
    }
    for (const c of this.#plugs()) this.#wakeConnector(c, now);
    this.#pump();
    this.#schedule();
  }

  #wakeConnector(c: Connector, now: number): void {
    c.advance(now, this.#limits);
    if (c.tx && c.meterDue <= now) {
      this.#sendMeterValues(c, now, 'Sample.Periodic');
      const interval = this.keys.int('MeterValueSampleInterval') * 1000;
      c.meterDue = interval > 0 ? Math.max(c.meterDue + interval, now + 1) : Infinity;
    }
    if (c.vehicle && !c.tx && c.vehicleInfoDue <= now) {
      const b = c.vehicle.battery;
      if (this.#online && this.#booted && c.bmsSafe && b.soc > 0) {
        const messageId = this.spec.vehicleInfoMessageId ?? 'VehicleInfo';
        this.#enqueue('DataTransfer', { vendorId: 'RivotMotors', messageId, data: JSON.stringify(c.vehicleSnapshot(messageId)) });
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
    if (c.autoAt <= now) this.#autopilotStep(c, now);
    this.#refresh(c);
  }

  #schedule(): void {
    if (!this.#powered) return;
    const now = this.env.clock.now();
    let next = Math.min(this.#reconnectAt, this.#rebootAt, this.#inFlight?.deadline ?? Infinity);
    if (this.#online && this.#booted) next = Math.min(next, this.#heartbeatDue);
    const head = this.#queue[0];
    if (head && head.notBefore > now && !this.#inFlight) next = Math.min(next, head.notBefore);
    for (const c of this.#plugs()) {
      next = Math.min(next, c.meterDue, c.vehicleInfoDue, c.departAt, c.autoAt, c.pendingAuth?.until ?? Infinity);
      if (c.gateOpen() && c.vehicle && !c.vehicle.battery.full) next = Math.min(next, now + PHYSICS_WAKE_MS);
    }
    this.env.wheel.schedule(this, next);
  }

  #plugs(): Connector[] {
    return this.connectors.slice(1);
  }

  // ---- autopilot -------------------------------------------------------------------------------------------

  #autopilot(): Required<AutopilotSpec> {
    const a = typeof this.spec.autopilot === 'object' ? this.spec.autopilot : {};
    return {
      idleS: a.idleS ?? [30, 120],
      tagAfterS: a.tagAfterS ?? 10,
      dwellS: a.dwellS ?? 60,
      initialSoc: a.initialSoc ?? [20, 60],
      targetSoc: a.targetSoc ?? [80, 90],
      models: a.models ?? VEHICLE_MODELS,
    };
  }

  #armAutopilot(): void {
    if (!this.spec.autopilot) return;
    const now = this.env.clock.now();
    for (const c of this.#plugs()) {
      if (c.vehicle || c.tx) continue;
      c.autoPhase = 'idle';
      c.autoAt = now + this.env.limits.bootDelayMs + 3000 + this.env.random() * 10_000;
    }
  }

  #autoIdle(c: Connector, now: number): void {
    const [lo, hi] = this.#autopilot().idleS;
    c.autoPhase = 'idle';
    c.autoAt = now + (lo + this.env.random() * (hi - lo)) * 1000;
  }

  #autopilotStep(c: Connector, now: number): void {
    c.autoAt = Infinity;
    const a = this.#autopilot();
    const pick = ([lo, hi]: readonly [number, number]): number => Math.round(lo + this.env.random() * (hi - lo));
    if (c.autoPhase === 'idle') {
      if (c.vehicle || c.fault) return this.#autoIdle(c, now);
      const model: VehicleModel = a.models[Math.floor(this.env.random() * a.models.length)] ?? 'Classic';
      const initialSoc = pick(a.initialSoc);
      this.#plugIn(c, { model, initialSoc, targetSoc: Math.max(initialSoc + 5, pick(a.targetSoc)), departAfterTargetS: a.dwellS }, now);
      c.autoPhase = 'plugged';
      c.autoAt = now + a.tagAfterS * 1000;
    } else if (c.autoPhase === 'plugged') {
      c.autoPhase = 'session';
      const r = this.#presentTag(c, this.#idTag(), now);
      if (!r.ok) c.departAt = now + a.dwellS * 1000;
    }
  }

  // ---- persistence -------------------------------------------------------------------------------------------

  snapshot(): PersistedQueue | undefined {
    const messages = this.#queue.flatMap((e) => (e.persisted ? [e.persisted] : []));
    const open: OpenTransaction[] = this.#plugs().flatMap((c) =>
      c.tx ? [{ tx: c.tx.local, connectorId: c.id, idTag: c.tx.idTag, meterStart: c.tx.meterStart, startedAt: c.tx.startedAt, lastMeterWh: c.registerWh() }] : [],
    );
    if (messages.length === 0 && open.length === 0 && !this.#configChanged) return undefined;
    const referenced = new Set([...messages.map((m) => m.tx), ...open.map((o) => o.tx)]);
    return {
      v: 1,
      txCounter: this.#txCounter,
      txIds: [...this.#txIds].filter(([local]) => referenced.has(local)),
      open,
      messages,
      ...(this.#configChanged ? { config: this.keys.overrides() } : {}),
    };
  }

  #restore(saved: PersistedQueue | undefined): void {
    if (!saved) return;
    this.#txCounter = saved.txCounter;
    for (const [local, id] of saved.txIds) this.#txIds.set(local, id);
    if (saved.config) {
      for (const [k, v] of Object.entries(saved.config)) this.keys.change(k, v);
      this.#configChanged = true;
    }
    for (const m of saved.messages) this.#queue.push({ action: m.action, payload: m.payload, persisted: { ...m }, notBefore: 0 });
    // Transactions open when the power went (a crash too: they are written before they start): closed now, with
    // the last register reading on disk, as after a power loss. One whose id never came is closed after its
    // StartTransaction, still queued; one whose StartTransaction was given up is unknown to the central system.
    const now = this.env.clock.now();
    for (const o of saved.open) {
      const queued = (kind: QueuedMessage['kind']): boolean => saved.messages.some((m) => m.tx === o.tx && m.kind === kind);
      if (queued('stop') || (!this.#txIds.has(o.tx) && !queued('start'))) continue;
      this.#enqueueTx('stop', o.tx, 'StopTransaction', { meterStop: o.lastMeterWh, timestamp: iso(now), reason: 'PowerLoss' });
      this.counters.txStopped++;
    }
  }
}
