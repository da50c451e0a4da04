// A simulated flashCharge charger, modelled on its firmware running MicroOcpp 1.2, composed of its parts: the
// connection (uplink.ts), outgoing calls (outbox.ts), boot and heartbeat (boot.ts), statuses (statuses.ts),
// sessions (transactions.ts), the charger's own inputs (local-inputs.ts), what falls due on its connectors
// (connector-timers.ts), frames from the central system (incoming.ts) and the answers to its calls
// (central-system-calls.ts), a pending Reset (pending-reset.ts) and what survives a power loss (flash.ts).
// The station owns power, the link's ups and downs, reboots and its one wake-up: time only advances through the
// shared timer wheel, so thousands of stations share one timer. It is each part's host, so parts cost no closures.
import type { Wakeable } from './wheel.js';
import type { PersistedQueue, Persistable, QueuedMessage } from './queue-store.js';
import { KeyStore } from './keys.js';
import { Connector, type ConnectorView } from './connector.js';
import type { ChargerLimits } from './battery.js';
import type { SimAction, SimStationSpec } from './spec.js';
import { Outbox, type OutboxHost } from './outbox.js';
import { Uplink, type UplinkEvents } from './uplink.js';
import { answerCall, type CallAnswer, type CallHost } from './central-system-calls.js';
import { Transactions, type TransactionsHost } from './transactions.js';
import { armAutopilot } from './autopilot.js';
import type { StationCounters, StationEnv } from './station-env.js';
import { Statuses, type StatusesHost } from './statuses.js';
import { Boot, type BootHost } from './boot.js';
import { LocalInputs, type ActResult, type LocalInputsHost } from './local-inputs.js';
import { PendingReset } from './pending-reset.js';
import { ConnectorTimers, type ConnectorTimersHost } from './connector-timers.js';
import { receiveFrame, type IncomingHost } from './incoming.js';
import { Flash } from './flash.js';
import { defectsOf, type Defect, type Defects } from './defects.js';

export { DEFAULT_LIMITS, type SimLimits, type StationCounters, type StationEnv } from './station-env.js';
export type { ActResult } from './local-inputs.js';

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

export class SimStation implements Wakeable, Persistable, OutboxHost, TransactionsHost, UplinkEvents, StatusesHost, BootHost, LocalInputsHost, ConnectorTimersHost, IncomingHost {
  wheelSlot = -1;
  readonly id: string;
  readonly keys: KeyStore;
  readonly connectors: Connector[]; // index 0 is the charge point itself
  readonly counters: StationCounters = { framesOut: 0, framesIn: 0, boots: 0, connects: 0, txStarted: 0, txStopped: 0, energyWh: 0, callErrors: 0, timeouts: 0, dropped: 0 };

  #powered = false;
  #removed = false;
  readonly chargerLimits: ChargerLimits;
  /** Deliberate firmware defects (spec.defects); undefined for a healthy station. */
  readonly defects: Defects | undefined;
  readonly #uplink: Uplink;
  readonly #outbox: Outbox;
  readonly #tx: Transactions;
  readonly #statuses: Statuses;
  readonly #boot: Boot;
  readonly #inputs: LocalInputs;
  readonly #timers: ConnectorTimers;
  readonly #flash: Flash;
  readonly #reset = new PendingReset();

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
    this.#statuses = new Statuses(this, this.#outbox, env);
    this.#boot = new Boot(this, this.#outbox, this.#statuses, env);
    this.#inputs = new LocalInputs(this, this.#tx, this.#outbox, this.#statuses, this.#boot, env);
    this.#timers = new ConnectorTimers(this, this.#tx, this.#outbox, this.#inputs, this.#statuses, this.#boot);
    this.#flash = new Flash(this, this.keys, this.#outbox, this.#tx, env);
    this.#flash.restore(env.store.load(this.id));
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------

  /** Power on: boot and connect after the boot delay. */
  powerOn(delayMs = this.env.limits.bootDelayMs): void {
    if (this.#powered || this.#removed) return;
    this.#powered = true;
    this.#boot.start();
    this.#uplink.connectAt(this.env.clock.now() + delayMs);
    armAutopilot(this.#inputs.autopilot(), this.plugs(), this.env.limits.bootDelayMs, this.env.clock.now());
    this.scheduleWake();
  }

  /** Power off (simulator shutdown): open transactions stay open on "flash" and are closed as PowerLoss on the next boot. */
  powerOff(): void {
    if (!this.#powered) return;
    const now = this.env.clock.now();
    this.#advance(now);
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
    return this.#boot.accepted;
  }

  get queueLength(): number {
    return this.#outbox.length;
  }

  info(): SimStationInfo {
    const now = this.env.clock.now();
    if (this.#powered) this.#advance(now);
    return {
      id: this.id,
      transport: this.env.transport.kind,
      powered: this.#powered,
      online: this.#uplink.online,
      booted: this.#boot.accepted,
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
    return this.#inputs.act(c, action, now);
  }

  // ---- for its parts -------------------------------------------------------------------------------------------

  /** Re-derives a connector's status and reports a change. */
  refresh(c: Connector): void {
    this.#statuses.refresh(c);
  }

  linkOpen(): boolean {
    return this.#uplink.online;
  }

  bootAccepted(): boolean {
    return this.#boot.accepted;
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
    this.#reset.outboxDrained(now);
  }

  sendFrame(text: string): boolean {
    const ok = this.#uplink.send(text);
    if (ok) this.counters.framesOut++;
    return ok;
  }

  // ---- connection ------------------------------------------------------------------------------------------

  /** The link is gone (either side): forget volatile messages, keep transaction messages, reconnect later. */
  #dropConnection(code: number, reason: string, abrupt: boolean): void {
    this.#uplink.drop(code, reason, abrupt, this.#powered && this.#reset.at === Infinity);
    this.#outbox.linkLost();
    this.#statuses.linkLost();
    this.scheduleWake();
  }

  linkOpened(): void {
    this.counters.connects++;
    if (this.defects?.has('forgetsOfflineQueue')) this.#outbox.forgetQueuedOffline();
    if (!this.#boot.accepted) this.#boot.send();
    else this.#statuses.reportUnconfirmed();
    this.#outbox.pump();
    this.scheduleWake();
  }

  /** Reset / power cycle: drop the link, forget volatile state, boot again after the boot delay. */
  #reboot(now: number): void {
    this.#reset.clear();
    this.#dropConnection(1006, 'rebooting', true);
    if (this.defects?.has('doesNotPersistConfiguration')) this.keys.revert(this.spec.config);
    this.#boot.start();
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
    receiveFrame(this, text);
  }

  callAnswered(id: string, answer: Record<string, unknown> | 'error'): void {
    this.#outbox.answered(id, answer);
  }

  answerCall(action: string, payload: Record<string, unknown>): CallAnswer {
    const now = this.env.clock.now();
    this.#advance(now);
    return answerCall(this.#callHost(), action, payload, now);
  }

  callDone(): void {
    this.#outbox.pump();
    this.scheduleWake();
  }

  /** What the central system's calls may touch; built per call (calls are rare, stations many). */
  #callHost(): CallHost {
    return {
      connectors: this.connectors,
      keys: this.keys,
      defects: this.defects,
      stationInoperative: () => this.#statuses.inoperative,
      setStationInoperative: (inoperative) => {
        this.#statuses.inoperative = inoperative;
      },
      presentTag: (c, idTag, now) => void this.#inputs.presentTag(c, idTag, now),
      authorized: (c, idTag, now) => this.#inputs.authorized(c, idTag, now),
      stopTx: (c, reason, now) => this.#tx.stop(c, reason, now),
      scheduleReset: (hard, now) => this.#reset.schedule(hard, now, this.#outbox.holdsTransactionMessages),
      configChanged: (key, now) => this.#onConfigChanged(key, now),
      refreshAll: () => {
        for (const c of this.connectors) this.refresh(c);
      },
      enqueue: (action, payload, onResult) => this.#outbox.enqueue(action, payload, undefined, onResult),
      bootPayload: () => this.#boot.payload(),
      heartbeatInterval: (seconds) => {
        this.#boot.takeHeartbeatInterval(seconds);
        this.#boot.armHeartbeat(this.env.clock.now());
      },
      reportStatus: (c) => this.#statuses.report(c, true),
      sendMeterValues: (c, now) => this.#tx.sampleMeter(c, now, 'Trigger'),
    };
  }

  #onConfigChanged(key: string, now: number): void {
    if (!this.defects?.has('doesNotPersistConfiguration')) this.#flash.configChanged();
    if (key === 'HeartbeatInterval') this.#boot.armHeartbeat(now);
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
    if (this.#reset.at <= now) {
      this.#reboot(now);
      return;
    }
    this.#uplink.connectIfDue(now);
    this.#outbox.expire(now);
    this.#boot.heartbeatIfDue(now);
    for (const c of this.plugs()) this.#timers.wake(c, now);
    this.#outbox.pump();
    this.scheduleWake();
  }

  scheduleWake(): void {
    if (!this.#powered) return;
    const now = this.env.clock.now();
    let next = Math.min(this.#uplink.reconnectAt, this.#reset.at, this.#outbox.nextWake(now), this.#boot.nextWake());
    for (const c of this.plugs()) next = Math.min(next, this.#timers.nextWake(c, now));
    this.env.wheel.schedule(this, next);
  }

  plugs(): Connector[] {
    return this.connectors.slice(1);
  }

  /** Integrates every connector's battery and energy register up to `now`. */
  #advance(now: number): void {
    for (const c of this.plugs()) c.advance(now, this.chargerLimits);
  }

  // ---- persistence -------------------------------------------------------------------------------------------

  snapshot(): PersistedQueue | undefined {
    return this.#flash.snapshot();
  }
}
