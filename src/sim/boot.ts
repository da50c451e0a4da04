// A simulated station's boot and heartbeat, as MicroOcpp runs them: BootNotification first on every connection
// until it is accepted (retried after the interval the central system asks for), then the statuses, then a
// Heartbeat every HeartbeatInterval, the interval taken from BootNotification.conf.
import { VEHICLE_INFO_FIRST_MS, type Connector } from './connector.js';
import type { Defects } from './defects.js';
import type { KeyStore } from './keys.js';
import type { Outbox } from './outbox.js';
import type { SimStationSpec } from './spec.js';
import type { StationCounters, StationEnv } from './station-env.js';
import type { Statuses } from './statuses.js';

/** What boot and heartbeat need from their station (the station itself: no per-station closures). */
export interface BootHost {
  readonly spec: SimStationSpec;
  readonly keys: KeyStore;
  readonly counters: StationCounters;
  readonly defects: Defects | undefined;
  /** The connectors, without connector 0. */
  plugs(): Connector[];
  linkOpen(): boolean;
}

export class Boot {
  #accepted = false;
  #bootedAt = 0;
  #heartbeatDue = Infinity;

  constructor(
    private readonly host: BootHost,
    private readonly outbox: Outbox,
    private readonly statuses: Statuses,
    private readonly env: StationEnv,
  ) {}

  /** The central system accepted this boot's BootNotification. */
  get accepted(): boolean {
    return this.#accepted;
  }

  /** Milliseconds since power-on or the last reboot (the BMSAlert timestamp). */
  uptime(now: number): number {
    return now - this.#bootedAt;
  }

  /** Power-on or reboot: not booted until a BootNotification is accepted; every status is reported again. */
  start(): void {
    this.#accepted = false;
    this.outbox.newBoot();
    this.#heartbeatDue = Infinity;
    this.#bootedAt = this.env.clock.now();
    this.statuses.newBoot();
  }

  payload(): Record<string, unknown> {
    const s = this.host.spec;
    return {
      chargePointVendor: s.vendor ?? 'Rivot Motors',
      chargePointModel: s.model ?? 'Rivot Charger',
      chargePointSerialNumber: s.serialNumber ?? s.id.slice(0, 25),
      firmwareVersion: s.firmwareVersion ?? '2.4.0',
    };
  }

  send(notBefore = 0): void {
    this.outbox.bootFirst(this.payload(), (conf) => this.#onConf(conf), notBefore);
  }

  /** The interval a BootNotification.conf hands out becomes HeartbeatInterval (unless the firmware ignores it). */
  takeHeartbeatInterval(seconds: number): void {
    if (!this.host.defects?.has('ignoresHeartbeatInterval')) this.host.keys.internalSet('HeartbeatInterval', String(seconds));
  }

  armHeartbeat(now: number): void {
    const hb = this.host.keys.int('HeartbeatInterval');
    this.#heartbeatDue = hb > 0 ? now + hb * 1000 : Infinity;
  }

  /** When the next Heartbeat is due (Infinity while offline or not booted). */
  nextWake(): number {
    return this.host.linkOpen() && this.#accepted ? this.#heartbeatDue : Infinity;
  }

  heartbeatIfDue(now: number): void {
    if (this.nextWake() > now) return;
    this.outbox.enqueue('Heartbeat', {});
    this.armHeartbeat(now);
  }

  #onConf(conf: Record<string, unknown> | undefined): void {
    const now = this.env.clock.now();
    const interval = typeof conf?.interval === 'number' && conf.interval > 0 ? conf.interval : 0;
    if (conf?.status === 'Accepted') {
      this.#accepted = true;
      this.host.counters.boots++;
      if (interval > 0) this.takeHeartbeatInterval(interval);
      this.armHeartbeat(now);
      // StatusNotifications for connector 0 and each connector go right after the boot, before any replay.
      this.outbox.ahead(() => this.statuses.reportAll());
      for (const c of this.host.plugs()) if (c.vehicle && !c.tx) c.vehicleInfoDue = Math.min(c.vehicleInfoDue, now + VEHICLE_INFO_FIRST_MS);
      return;
    }
    // Pending / Rejected / no answer: try again after the interval the central system asked for (or a minute).
    if (this.host.linkOpen()) this.send(now + (interval > 0 ? interval : 60) * 1000);
  }
}
