// What is due on a simulated station's connectors as time passes: periodic MeterValues in a session, the RivotMotors
// VehicleInfo while a vehicle waits, a tag accepted before the cable expiring, a vehicle leaving after its target,
// the autopilot's next move; and when the connector next needs the station awake.
import { autopilotStep } from './autopilot.js';
import type { ChargerLimits } from './battery.js';
import type { Boot } from './boot.js';
import { VEHICLE_INFO_EVERY_MS, type Connector } from './connector.js';
import type { KeyStore } from './keys.js';
import type { LocalInputs } from './local-inputs.js';
import type { Outbox } from './outbox.js';
import type { SimStationSpec } from './spec.js';
import type { Statuses } from './statuses.js';
import type { Transactions } from './transactions.js';

const PHYSICS_WAKE_MS = 5000; // while energy flows, look at the battery at least this often

/** What the timers need from their station (the station itself: no per-station closures). */
export interface ConnectorTimersHost {
  readonly spec: SimStationSpec;
  readonly keys: KeyStore;
  readonly chargerLimits: ChargerLimits;
  linkOpen(): boolean;
}

export class ConnectorTimers {
  constructor(
    private readonly host: ConnectorTimersHost,
    private readonly tx: Transactions,
    private readonly outbox: Outbox,
    private readonly inputs: LocalInputs,
    private readonly statuses: Statuses,
    private readonly boot: Boot,
  ) {}

  /** Brings the connector up to `now` and does what is due. */
  wake(c: Connector, now: number): void {
    c.advance(now, this.host.chargerLimits);
    if (c.tx && c.meterDue <= now) {
      this.tx.sampleMeter(c, now, 'Sample.Periodic');
      const interval = this.host.keys.int('MeterValueSampleInterval') * 1000;
      c.meterDue = interval > 0 ? Math.max(c.meterDue + interval, now + 1) : Infinity;
    }
    if (c.vehicle && !c.tx && c.vehicleInfoDue <= now) {
      const b = c.vehicle.battery;
      if (this.host.linkOpen() && this.boot.accepted && c.bmsSafe && b.soc > 0) {
        const messageId = this.host.spec.vehicleInfoMessageId ?? 'VehicleInfo';
        this.outbox.enqueue('DataTransfer', { vendorId: 'RivotMotors', messageId, data: JSON.stringify(c.vehicleSnapshot(messageId)) });
      }
      c.vehicleInfoDue = now + VEHICLE_INFO_EVERY_MS;
    }
    if (c.pendingAuth && c.pendingAuth.until <= now) c.pendingAuth = undefined;
    const v = c.vehicle;
    if (v?.battery.full && v.departAfterTargetS !== undefined && c.departAt === Infinity) c.departAt = now + v.departAfterTargetS * 1000;
    if (c.departAt <= now) {
      c.departAt = Infinity;
      this.inputs.plugOut(c, now);
    }
    if (c.autoAt <= now) autopilotStep(this.inputs.autopilot(), c, now);
    this.statuses.refresh(c);
  }

  /** The earliest time something is due on the connector. */
  nextWake(c: Connector, now: number): number {
    const next = Math.min(c.meterDue, c.vehicleInfoDue, c.departAt, c.autoAt, c.pendingAuth?.until ?? Infinity, c.reservation?.expiresAt ?? Infinity);
    return c.gateOpen() && c.vehicle && !c.vehicle.battery.full ? Math.min(next, now + PHYSICS_WAKE_MS) : next;
  }
}
